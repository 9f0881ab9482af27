"""MONAI Label's Python client's calls against a server, made the way that client makes them.

MONAI Label's own client (monailabel/client/client.py) cannot be installed here (no PyPI), so this
script sends its requests as it does: multipart bodies from its own encoder (a fixed boundary,
`params` as a JSON field, files as parts), JSON bodies through http.client, and the answer of
/infer/ parsed with cgi.FieldStorage into form fields and files, the first file saved to disk.
Prints one JSON object with what each call returned.

Usage: client_calls.py SERVER_URL WORK_DIR IMAGE.tif LABEL.zip
"""

import cgi
import http.client
import json
import mimetypes
import os
import sys
import time
from urllib.parse import quote_plus, urlparse

BOUNDARY = "----------lImIt_of_THE_fIle_eW_$"


def connection(server):
    parsed = urlparse(server)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)


def multipart(fields, files):
    """Fields as plain parts, then each (name -> path) file as a part with its file name."""
    body = bytearray()
    for name, value in fields.items():
        body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, path in files.items():
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{path}"\r\n'
        body += f"{head}Content-Type: {kind}\r\n\r\n".encode()
        with open(path, "rb") as f:
            body += f.read() + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    return f"multipart/form-data; boundary={BOUNDARY}", bytes(body)


def send(server, method, selector, body=None, content_type=None):
    """One request; a multipart answer comes back as (form fields, files by file name)."""
    conn = connection(server)
    headers = {}
    if body is not None:
        if isinstance(body, dict):
            body, content_type = json.dumps(body), "application/json"
        headers = {"content-type": content_type, "content-length": str(len(body))}
    conn.request(method, selector, body=body, headers=headers)
    response = conn.getresponse()
    kind = response.getheader("content-type", "application/json")
    if "multipart" in kind and response.status == 200:
        environ = {"REQUEST_METHOD": "POST"}
        fs = cgi.FieldStorage(fp=response.fp, environ=environ, headers=response.msg, keep_blank_values=True)
        form, files = {}, {}
        for part in fs.list or []:
            if part.filename:
                files[part.filename] = part.value
            else:
                form[part.name] = part.value
        return response.status, form, files
    return response.status, response.read(), None


def ok(status, what, answer=b""):
    """Stops with the status and the start of the answer unless the call succeeded."""
    if status != 200:
        raise SystemExit(f"{what}: status {status}: {answer[:300]!r}")


def main():
    server, work, image, label = sys.argv[1:5]
    client = {"client_id": "test-client"}
    out = {}

    status, answer, _ = send(server, "GET", "/info/")
    ok(status, "info", answer)
    out["info"] = sorted(json.loads(answer)["models"])

    # upload_image: PUT /datastore/?image=ID, params as a field and the image as `file`
    kind, body = multipart({"params": json.dumps(client)}, {"file": image})
    status, answer, _ = send(server, "PUT", f"/datastore/?image={quote_plus('cells')}", body, kind)
    ok(status, "upload_image", answer)
    out["upload_image"] = json.loads(answer)

    # save_label: PUT /datastore/label?image=ID&tag=TAG, params and the label as `label`
    kind, body = multipart({"params": json.dumps(client)}, {"label": label})
    status, answer, _ = send(server, "PUT", "/datastore/label?image=cells&tag=final", body, kind)
    ok(status, "save_label", answer)
    out["save_label"] = json.loads(answer)

    # download_label: GET /datastore/label?label=ID&tag=TAG, saved as a file
    status, answer, _ = send(server, "GET", "/datastore/label?label=cells&tag=final")
    ok(status, "download_label", answer)
    with open(os.path.join(work, "downloaded.zip"), "wb") as f:
        f.write(answer)
    out["download_label"] = len(answer)

    # train_start: POST /train/MODEL with the params as JSON; train_status until it is no longer running
    status, answer, _ = send(server, "POST", "/train/impartial_2", {**client, "steps": 3, "depth": 2, "base": 4})
    ok(status, "train_start", answer)
    out["train_start"] = json.loads(answer)["status"]
    deadline = time.monotonic() + 300
    while send(server, "GET", "/train/?check_if_running=true")[0] == 200:
        if time.monotonic() > deadline:
            raise SystemExit("train_status: still running after 300 s")
        time.sleep(0.2)  # the poll interval while waiting for the training to end
    status, answer, _ = send(server, "GET", "/train/")
    ok(status, "train_status", answer)
    out["train_status"] = json.loads(answer)["status"]

    # infer: POST /infer/MODEL?image=ID, params as a multipart field; the answer's first file is the label
    kind, body = multipart({"params": json.dumps({**client, "passes": 1})}, {})
    status, form, files = send(server, "POST", "/infer/impartial_2?image=cells", body, kind)
    ok(status, "infer", form)
    params = form.get("params") if files else form
    params = json.loads(params) if isinstance(params, (str, bytes)) else params
    name = next(iter(files))
    with open(os.path.join(work, name), "wb") as f:
        f.write(files[name])
    out["infer"] = {"file": name, "params": params}

    # next_sample: POST /activelearning/STRATEGY with the params as JSON (a second image, unlabelled, to pick)
    kind, body = multipart({"params": json.dumps(client)}, {"file": image})
    status, answer, _ = send(server, "PUT", "/datastore/?image=unlabelled", body, kind)
    ok(status, "upload_image (a second image)", answer)
    status, answer, _ = send(server, "POST", "/activelearning/random", client)
    ok(status, "next_sample", answer)
    out["next_sample"] = json.loads(answer)

    print(json.dumps(out))


if __name__ == "__main__":
    main()
