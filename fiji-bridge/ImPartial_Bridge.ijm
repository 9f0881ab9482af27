// ImPartial bridge for ImageJ 1.53+ and Fiji: live two-way sync with an `impartial serve` bridge.
// Install: Plugins > Macros > Install... (or copy into Fiji's macros/toolsets and pick it from the >> menu).
// Needs no jar: every call is a GET to the bridge's /fiji routes (shared/src/protocol/fiji.ts),
// answered with key=value lines. Strokes drawn here go to every web viewer; strokes, views,
// predictions and entropy from the bridge come back as overlays while Live mode runs.

var IP_BASE = "http://127.0.0.1:8000";
var IP_TOKEN = "";
var IP_NAME = "fiji";
var IP_IMAGE = "";       // bridge image linked to IP_WINDOW
var IP_WINDOW = 0;       // ImageJ image ID of the linked window
var IP_SCALE = 1;        // level-0 pixels per pixel of the linked window
var IP_CURSOR = 0;       // last bridge event seen
var IP_SENT = "";        // signature of the last selection sent
var IP_VIEW = "";        // last view sent
var IP_OPACITY = 40;     // prediction overlay opacity (percent)
var IP_ENTROPY_OPACITY = 35;
var IP_FOLLOW = true;    // follow the views of web viewers
var IP_STATUS = "";
var IP_KEEP_PREDICTION = "";   // a folder to save the overlay images in (tests, debugging), or ""

// ---- functions (tests and other macros run everything above the menu section directly)

// The bridge URL of a route, with the token.
function ipUrl(path) {
  sep = "?"; if (indexOf(path, "?") >= 0) sep = "&";
  if (IP_TOKEN == "") return IP_BASE + path;
  return IP_BASE + path + sep + "token=" + IP_TOKEN;
}

// GET a route; "" (and a status message) when the bridge answers an error or cannot be reached.
function ipGet(path) {
  s = File.openUrlAsString(ipUrl(path));
  if (startsWith(s, "<Error")) { IP_STATUS = s; showStatus("ImPartial: " + s); return ""; }
  return s;
}

// A value of a key=value reply.
function ipField(reply, key) {
  List.setList(reply);
  return List.get(key);
}

// Percent-encodes what a query value may not hold as is.
function ipEncode(s) {
  s = replace(s, "%", "%25"); s = replace(s, " ", "%20"); s = replace(s, "&", "%26");
  s = replace(s, "\\+", "%2B"); s = replace(s, "#", "%23"); s = replace(s, "\\|", "%7C"); s = replace(s, ";", "%3B");
  return s;
}

function ipConnect(url, token, name) {
  k = indexOf(url, "?token=");
  if (k >= 0) { token = substring(url, k + 7); url = substring(url, 0, k); }
  while (endsWith(url, "/")) url = substring(url, 0, lengthOf(url) - 1);
  IP_BASE = url; IP_TOKEN = token; if (name != "") IP_NAME = name;
  // Without a read timeout a dead bridge would hang ImageJ's macro thread.
  d = call("java.lang.System.setProperty", "sun.net.client.defaultReadTimeout", "35000");
  reply = ipGet("/fiji/projects");
  if (reply == "") { showStatus("ImPartial: cannot reach " + IP_BASE + " (" + IP_STATUS + ")"); return 0; }
  count = ipField(reply, "count");
  n = parseInt(count);
  showStatus("ImPartial: connected to " + IP_BASE + ", " + n + " project(s)");
  return n;
}

// Asks which bridge image to use; returns its id or "".
function ipChooseImage(title) {
  reply = ipGet("/fiji/images");
  if (reply == "") exit("Not connected: use ImPartial Connect first.");
  List.setList(reply);
  n = parseInt(List.get("count"));
  if (n == 0) exit("The bridge holds no images yet.");
  labels = newArray(n); ids = newArray(n);
  for (i = 0; i < n; i++) { ids[i] = List.get("id" + i); labels[i] = List.get("name" + i) + " (" + List.get("width" + i) + "x" + List.get("height" + i) + ", " + List.get("channels" + i) + " ch)"; }
  Dialog.create(title);
  Dialog.addChoice("Image", labels, labels[0]);
  Dialog.show();
  choice = Dialog.getChoice();
  for (i = 0; i < n; i++) if (labels[i] == choice) return ids[i];
  return "";
}

// Opens a bridge image as a multi-channel hyperstack and links the window to it.
function ipOpenImage(id) {
  reply = ipGet("/fiji/hello?image=" + id);
  if (reply == "") return 0;
  List.setList(reply);
  name = List.get("name"); url = List.get("image_url"); scale = parseFloat(List.get("scale"));
  open(IP_BASE + url);
  rename(name);
  if (nSlices > 1) run("Make Composite");
  ipLink(id, getImageID());
  IP_SCALE = scale;
  ipShowPrediction(reply);
  return getImageID();
}

// Links an open window to a bridge image (its strokes, views and predictions follow).
function ipLink(id, window) {
  reply = ipGet("/fiji/hello?image=" + id);
  if (reply == "") return 0;
  List.setList(reply);
  IP_IMAGE = id; IP_WINDOW = window; IP_CURSOR = parseInt(List.get("cursor"));
  selectImage(window);
  IP_SCALE = parseInt(List.get("width")) / getWidth();
  IP_SENT = ""; IP_VIEW = "";
  ipDrawAllStrokes();
  showStatus("ImPartial: " + getTitle() + " linked to " + id);
  return 1;
}

// Draws every stroke in effect (on linking; after that, events keep the overlay current).
function ipDrawAllStrokes() {
  reply = ipGet("/fiji/strokes?image=" + IP_IMAGE);
  if (reply == "") return 0;
  ipRemoveOverlay("ip-stroke-");
  List.setList(reply);
  n = parseInt(List.get("count"));
  IP_CURSOR = parseInt(List.get("cursor"));
  for (k = 0; k < n; k++) {
    List.setList(reply);
    entry = List.get("entry" + k);
    List.setList("op=" + List.get("op" + k) + "\nclass=" + List.get("class" + k) + "\nwidth=" + List.get("width" + k) + "\npoints=" + List.get("points" + k));
    ipDrawStroke(entry);
  }
  return n;
}

// Sends a stroke text (op|class|width|x,y;...) in chunks of at most 4000 characters.
function ipSendText(text) {
  rid = IP_NAME + "-" + d2s(getTime(), 0) + "-" + round(random * 1000000);
  CH = 4000; n = floor((lengthOf(text) + CH - 1) / CH);
  reply = "";
  for (i = 0; i < n; i++) {
    part = substring(text, i * CH, minOf(lengthOf(text), (i + 1) * CH));
    reply = ipGet("/fiji/stroke?image=" + IP_IMAGE + "&id=" + rid + "&i=" + i + "&n=" + n + "&name=" + ipEncode(IP_NAME) + "&d=" + ipEncode(part));
  }
  if (reply == "") return 0;
  seq = ipField(reply, "seq");
  return parseInt(seq);
}

// The class of the current selection: background when named bg/background or drawn in magenta/red; else cell.
function ipSelectionClass() {
  name = toLowerCase(Roi.getName);
  if (startsWith(name, "bg") || startsWith(name, "back")) return 2;
  color = toLowerCase(Roi.getStrokeColor);
  if (color == "magenta" || color == "red" || endsWith(color, "ff00ff") || endsWith(color, "ff0000")) return 2;
  return 1;
}

// Sends the current selection: a closed outline as ImPartial's cell scribbles, a line as drawn.
function ipSendSelection() {
  if (IP_IMAGE == "") exit("Link an image first (ImPartial Open Image or Link Current Image).");
  selectImage(IP_WINDOW);
  type = selectionType();
  if (type < 0) return 0;
  getSelectionCoordinates(xs, ys);
  cls = ipSelectionClass();
  width = 2; w = getValue("selection.width"); if (w > 1) width = w * IP_SCALE;
  op = "add";
  if (type <= 4 || type == 9) op = "outline";
  if (type == 10) width = maxOf(width, 3 * IP_SCALE);
  s = op + "|" + cls + "|" + width + "|";
  for (k = 0; k < xs.length; k++) s = s + d2s(xs[k] * IP_SCALE, 1) + "," + d2s(ys[k] * IP_SCALE, 1) + ";";
  seq = ipSendText(s);
  IP_SENT = ipSignature();
  return seq;
}

// Sends every ROI of the ROI Manager.
function ipSendRoiManager() {
  n = roiManager("count"); sent = 0;
  for (i = 0; i < n; i++) { selectImage(IP_WINDOW); roiManager("select", i); if (ipSendSelection() > 0) sent++; }
  run("Select None");
  showStatus("ImPartial: sent " + sent + " of " + n + " ROIs");
  return sent;
}

// What identifies the current selection (to send each new one once).
function ipSignature() {
  if (selectionType() < 0) return "";
  getSelectionCoordinates(xs, ys);
  return "" + selectionType() + ":" + xs.length + ":" + xs[0] + "," + ys[0] + ":" + xs[xs.length - 1] + "," + ys[ys.length - 1];
}

// This window's view in level-0 pixels: centre, zoom (log2 screen px per level-0 px), channel.
function ipViewQuery() {
  selectImage(IP_WINDOW);
  getDisplayedArea(x, y, w, h);
  Stack.getPosition(c, z, t);
  zoom = log(getZoom() / IP_SCALE) / log(2);
  return "x=" + d2s((x + w / 2) * IP_SCALE, 1) + "&y=" + d2s((y + h / 2) * IP_SCALE, 1) + "&zoom=" + d2s(zoom, 3) + "&channel=" + (c - 1) + "&slice=" + (z - 1)
    + "&ax=" + round(x * IP_SCALE) + "&ay=" + round(y * IP_SCALE) + "&aw=" + round(w * IP_SCALE) + "&ah=" + round(h * IP_SCALE);
}

function ipSendView() {
  q = ipViewQuery();
  if (q == IP_VIEW) return 0;
  IP_VIEW = q;
  r = ipGet("/fiji/view?image=" + IP_IMAGE + "&name=" + ipEncode(IP_NAME) + "&" + q);
  return 1;
}

// Goes to a view sent by another client (follow mode).
function ipApplyView() {
  selectImage(IP_WINDOW);
  c = List.get("channel");
  if (c != "" && nSlices > 1) Stack.setChannel(parseInt(c) + 1);
  zoom = parseFloat(List.get("zoom"));
  percent = 100 * pow(2, zoom) * IP_SCALE;
  run("Set... ", "zoom=" + d2s(percent, 2) + " x=" + round(parseFloat(List.get("x")) / IP_SCALE) + " y=" + round(parseFloat(List.get("y")) / IP_SCALE));
  IP_VIEW = ipViewQuery();
}

// Draws a stroke of the event in the List as an overlay named ip-stroke-SEQ.
function ipDrawStroke(seq) {
  pts = split(List.get("points"), ";");
  n = pts.length; if (n == 1) n = 2;
  xs = newArray(n); ys = newArray(n);
  for (k = 0; k < n; k++) { p = split(pts[minOf(k, pts.length - 1)], ","); xs[k] = parseFloat(p[0]) / IP_SCALE; ys[k] = parseFloat(p[1]) / IP_SCALE; }
  // A dab (one point) is drawn as a half-pixel line: ImageJ makes no selection of zero length.
  if (pts.length == 1) xs[1] = xs[0] + 0.5;
  color = "#c000ff00"; if (List.get("class") == "2") color = "#c0ff00ff"; if (List.get("op") == "erase") color = "#a0000000";
  selectImage(IP_WINDOW);
  had = ipSignature();
  makeSelection("polyline", xs, ys);
  if (selectionType() < 0) return 0;
  Roi.setName("ip-stroke-" + seq);
  Overlay.addSelection(color, maxOf(1, parseFloat(List.get("width")) / IP_SCALE));
  Overlay.setPosition(0);
  run("Select None");
  if (had == "") IP_SENT = "";
}

// Removes the overlay items whose name starts with prefix.
function ipRemoveOverlay(prefix) {
  selectImage(IP_WINDOW);
  for (i = Overlay.size - 1; i >= 0; i--) {
    Overlay.activateSelection(i);
    if (startsWith(Roi.getName, prefix)) Overlay.removeSelection(i);
  }
  run("Select None");
}

// 8-bit label LUT: 0 transparent, cells in well separated colours.
function ipLabelLut() {
  r = newArray(256); g = newArray(256); b = newArray(256);
  for (i = 1; i < 256; i++) { h = (i * 0.618034) % 1; r[i] = round(255 * (0.5 + 0.5 * sin(6.2832 * h))); g[i] = round(255 * (0.5 + 0.5 * sin(6.2832 * (h + 0.333)))); b[i] = round(255 * (0.5 + 0.5 * sin(6.2832 * (h + 0.667)))); }
  setLut(r, g, b);
}

// Shows a prediction (labels as coloured cells, entropy in Fire) from the fields of a reply.
function ipShowPrediction(reply) {
  List.setList(reply);
  labels = List.get("labels_url"); entropy = List.get("entropy_url");
  if (labels == "") return 0;
  ipRemoveOverlay("ip-prediction");
  setBatchMode(true);
  open(IP_BASE + labels); lt = getTitle();
  run("Macro...", "code=[v = (v > 0) * (1 + v % 254)]");
  setMinAndMax(0, 255); run("8-bit"); ipLabelLut(); lt = "ip-prediction-labels"; rename(lt);
  open(IP_BASE + entropy); et = getTitle();
  setMinAndMax(0, 0.6931); run("8-bit"); run("Fire"); run("RGB Color"); et = "ip-prediction-entropy"; rename(et);
  selectImage(IP_WINDOW);
  run("Add Image...", "image=[" + et + "] x=0 y=0 opacity=" + IP_ENTROPY_OPACITY + " zero");
  ipNameLast("ip-prediction-entropy");
  run("Add Image...", "image=[" + lt + "] x=0 y=0 opacity=" + IP_OPACITY + " zero");
  ipNameLast("ip-prediction-labels");
  selectImage(lt); if (IP_KEEP_PREDICTION != "") saveAs("Tiff", IP_KEEP_PREDICTION + "/labels.tif"); close();
  selectImage(et); if (IP_KEEP_PREDICTION != "") saveAs("Tiff", IP_KEEP_PREDICTION + "/entropy.tif"); close();
  setBatchMode(false);
  selectImage(IP_WINDOW);
  showStatus("ImPartial: prediction " + List.get("model") + ", " + List.get("cells") + " cells");
  return 1;
}

function ipNameLast(name) {
  n = Overlay.size; Overlay.activateSelection(n - 1); Roi.setName(name); Overlay.setPosition(0); run("Select None");
}

// Handles one event reply; returns its type.
function ipApply(reply) {
  List.setList(reply);
  seq = List.get("seq"); if (seq != "") IP_CURSOR = parseInt(seq);
  type = List.get("type");
  if (type == "stroke") ipDrawStroke(List.get("entry"));
  else if (type == "undo") ipRemoveOverlay("ip-stroke-" + List.get("target"));
  else if (type == "redo") ipDrawStroke(List.get("target"));
  else if (type == "view" && IP_FOLLOW) ipApplyView();
  else if (type == "progress") { showStatus("ImPartial: training step " + List.get("step") + " loss " + List.get("loss") + " ETA " + List.get("eta") + " s"); if (List.get("steps") != "") showProgress(parseInt(List.get("step")) / parseInt(List.get("steps"))); }
  else if (type == "job") { if (List.get("status") != "running") showStatus("ImPartial: " + List.get("kind") + " " + List.get("status") + " " + List.get("error")); }
  else if (type == "prediction") ipShowPrediction(reply);
  else if (type == "infer-progress") showProgress(parseInt(List.get("done")) / parseInt(List.get("total")));
  else if (type == "session") showStatus("ImPartial: work session " + List.get("state") + ", " + List.get("expires"));
  return type;
}

// Waits up to timeout ms for the next bridge event and applies it; returns its type or "".
function ipPoll(timeout) {
  e = ipGet("/fiji/events?image=" + IP_IMAGE + "&since=" + IP_CURSOR + "&timeout=" + timeout + "&flush=1&me=" + ipEncode(IP_NAME));
  if (e == "") return "";
  // (a string-valued user function cannot be returned directly: ImageJ expects a number there)
  type = ipApply(e);
  return type;
}

// Live mode: new selections go out when the mouse is released, bridge events come in, views both
// ways. Runs until the linked window closes, Esc is held, or after maxMs (0 = no limit).
function ipLive(maxMs) {
  if (IP_IMAGE == "") exit("Link an image first (ImPartial Open Image or Link Current Image).");
  start = getTime();
  showStatus("ImPartial: live (hold Esc to stop)");
  while (isOpen(IP_WINDOW) && !isKeyDown("escape") && (maxMs == 0 || getTime() - start < maxMs)) {
    ipPoll(100);
    if (!isOpen(IP_WINDOW)) return 0;
    selectImage(IP_WINDOW);
    getCursorLoc(cx, cy, cz, flags);
    sig = ipSignature();
    if (sig != "" && sig != IP_SENT && (flags & 16) == 0) ipSendSelection();
    ipSendView();
  }
  showStatus("ImPartial: live mode ended");
  return 1;
}

function ipTrain(seconds) {
  r = ipGet("/fiji/train?image=" + IP_IMAGE + "&id=" + IP_NAME + "-" + d2s(getTime(), 0) + "&seconds=" + seconds + "&name=" + ipEncode(IP_NAME));
  if (r != "") showStatus("ImPartial: training " + ipField(r, "job") + " (" + ipField(r, "status") + "); Live mode shows progress");
  return r;
}

function ipStop() { r = ipGet("/fiji/stop?image=" + IP_IMAGE + "&id=" + IP_NAME + "-" + d2s(getTime(), 0)); return r; }

function ipInfer() {
  r = ipGet("/fiji/infer?image=" + IP_IMAGE + "&id=" + IP_NAME + "-" + d2s(getTime(), 0));
  if (r != "") showStatus("ImPartial: predicting; Live mode shows the result");
  return r;
}

function ipUndo(op) { r = ipGet("/fiji/" + op + "?image=" + IP_IMAGE + "&id=" + IP_NAME + "-" + d2s(getTime(), 0) + "&name=" + ipEncode(IP_NAME)); return r; }

// ---- menu (Plugins > Macros once installed; F1-F4 are shortcuts)

macro "ImPartial Connect..." {
  Dialog.create("ImPartial bridge");
  Dialog.addString("Bridge URL", IP_BASE, 40);
  Dialog.addString("Token", IP_TOKEN, 40);
  Dialog.addString("Your name", IP_NAME, 20);
  Dialog.addMessage("Paste the URL 'impartial serve' printed (with ?token=...) into Bridge URL, or give the token apart.");
  Dialog.show();
  ipConnect(Dialog.getString(), Dialog.getString(), Dialog.getString());
}

macro "ImPartial Open Image..." {
  id = ipChooseImage("Open from the bridge");
  if (id != "") ipOpenImage(id);
}

macro "ImPartial Link Current Image..." {
  if (nImages == 0) exit("Open an image first.");
  window = getImageID();
  id = ipChooseImage("Link " + getTitle() + " to");
  if (id != "") ipLink(id, window);
}

macro "ImPartial Send Selection [F1]" { ipSendSelection(); }
macro "ImPartial Send All ROIs" { ipSendRoiManager(); }
macro "ImPartial Live Mode [F2]" { ipLive(0); }
macro "ImPartial Train..." {
  Dialog.create("ImPartial training");
  Dialog.addNumber("Seconds", 60);
  Dialog.show();
  ipTrain(Dialog.getNumber());
}
macro "ImPartial Stop Training" { ipStop(); }
macro "ImPartial Predict" { ipInfer(); }
macro "ImPartial Undo [F3]" { ipUndo("undo"); }
macro "ImPartial Redo [F4]" { ipUndo("redo"); }
macro "ImPartial Overlay Opacity..." {
  Dialog.create("ImPartial overlays");
  Dialog.addSlider("Prediction opacity", 0, 100, IP_OPACITY);
  Dialog.addSlider("Entropy opacity", 0, 100, IP_ENTROPY_OPACITY);
  Dialog.addCheckbox("Follow web viewers' views", IP_FOLLOW);
  Dialog.show();
  IP_OPACITY = Dialog.getNumber(); IP_ENTROPY_OPACITY = Dialog.getNumber(); IP_FOLLOW = Dialog.getCheckbox();
}
