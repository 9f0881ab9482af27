// Convolutions for training on CPUs, through oneDNN (Debian's libdnnl): forward, gradient with
// respect to the input and to the weights, on tfjs' own layouts (activations NHWC, filters HWIO),
// reading and writing the caller's Float32Arrays in place (views on the wasm heap). Primitives and
// the reorders to and from the layouts they choose are built once per shape and kept, per thread
// (training and inference run in separate workers).
#include <node_api.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <unordered_map>

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu() { static dnnl::engine e(dnnl::engine::kind::cpu, 0); return e; }
dnnl::stream& queue() { thread_local dnnl::stream s(cpu()); return s; }

// Shape of one convolution: x [n, h, w, ci], filter [fh, fw, ci, co], y [n, oh, ow, co].
struct Shape {
  int64_t n, h, w, ci, fh, fw, co, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr;
  std::string key() const {
    std::string k;
    for (int64_t v : {n, h, w, ci, fh, fw, co, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr}) k += std::to_string(v) + ",";
    return k;
  }
};

// A primitive with the reorders between tfjs' plain layouts and the blocked layouts oneDNN
// chooses for it (its direct AVX-512/AVX2 kernels are several times faster than its gemm path on
// plain NHWC). Each argument: plain desc, chosen desc, and a scratch buffer when they differ.
struct Arg {
  memory::desc plain, chosen;
  std::unique_ptr<memory> scratch;
  dnnl::reorder reorder;  // plain -> chosen for inputs, chosen -> plain for the output
  bool direct() const { return plain == chosen; }
};

struct Step {
  dnnl::primitive run;
  // arguments in order: two inputs, one output, each with its oneDNN argument id
  int ids[3];
  Arg args[3];
};

struct Prims { Step forward, backwardData, backwardWeights; };

Step step(dnnl::primitive run, const int ids[3], const memory::desc plain[3], const memory::desc chosen[3]) {
  Step s{run, {ids[0], ids[1], ids[2]}, {}};
  for (int i = 0; i < 3; i++) {
    s.args[i].plain = plain[i];
    s.args[i].chosen = chosen[i];
    if (s.args[i].direct()) continue;
    s.args[i].scratch.reset(new memory(chosen[i], cpu()));
    memory plainMemory(plain[i], cpu(), DNNL_MEMORY_NONE);
    s.args[i].reorder = i < 2 ? dnnl::reorder(plainMemory, *s.args[i].scratch) : dnnl::reorder(*s.args[i].scratch, plainMemory);
  }
  return s;
}

Prims& prims(const Shape& s) {
  thread_local std::map<std::string, std::unique_ptr<Prims>> cache;
  auto& slot = cache[s.key()];
  if (slot) return *slot;
  // oneDNN's logical dims are n,c,h,w and o,i,h,w; the format tags say how memory is laid out.
  memory::desc x({s.n, s.ci, s.h, s.w}, dt::f32, tag::nhwc);
  memory::desc f({s.co, s.ci, s.fh, s.fw}, dt::f32, tag::hwio);
  memory::desc y({s.n, s.co, s.oh, s.ow}, dt::f32, tag::nhwc);
  memory::desc xa({s.n, s.ci, s.h, s.w}, dt::f32, tag::any);
  memory::desc fa({s.co, s.ci, s.fh, s.fw}, dt::f32, tag::any);
  memory::desc ya({s.n, s.co, s.oh, s.ow}, dt::f32, tag::any);
  memory::dims strides = {s.sh, s.sw}, dilation = {s.dh - 1, s.dw - 1}, padL = {s.pt, s.pl}, padR = {s.pb, s.pr};
  auto algo = dnnl::algorithm::convolution_direct;
  dnnl::convolution_forward::primitive_desc fwd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, xa, fa, ya, strides, dilation, padL, padR), cpu());
  dnnl::convolution_backward_data::primitive_desc bwdData(
      dnnl::convolution_backward_data::desc(algo, xa, fa, ya, strides, dilation, padL, padR), cpu(), fwd);
  dnnl::convolution_backward_weights::primitive_desc bwdWeights(
      dnnl::convolution_backward_weights::desc(algo, xa, fa, ya, strides, dilation, padL, padR), cpu(), fwd);
  const int fIds[3] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
  const int dIds[3] = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
  const int wIds[3] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS};
  const memory::desc fPlain[3] = {x, f, y}, dPlain[3] = {y, f, x}, wPlain[3] = {x, y, f};
  const memory::desc fChosen[3] = {fwd.src_desc(), fwd.weights_desc(), fwd.dst_desc()};
  const memory::desc dChosen[3] = {bwdData.diff_dst_desc(), bwdData.weights_desc(), bwdData.diff_src_desc()};
  const memory::desc wChosen[3] = {bwdWeights.src_desc(), bwdWeights.diff_dst_desc(), bwdWeights.diff_weights_desc()};
  slot.reset(new Prims{step(dnnl::convolution_forward(fwd), fIds, fPlain, fChosen),
                       step(dnnl::convolution_backward_data(bwdData), dIds, dPlain, dChosen),
                       step(dnnl::convolution_backward_weights(bwdWeights), wIds, wPlain, wChosen)});
  return *slot;
}

// Runs one step on plain buffers: inputs reordered into the chosen layouts where they differ,
// the output reordered back.
void execute(Step& st, float* a, float* b, float* out) {
  auto& e = cpu();
  float* plain[3] = {a, b, out};
  std::unordered_map<int, memory> args;
  for (int i = 0; i < 3; i++) {
    Arg& arg = st.args[i];
    memory user(arg.plain, e, plain[i]);
    if (arg.direct()) { args.insert({st.ids[i], user}); continue; }
    if (i < 2) arg.reorder.execute(queue(), user, *arg.scratch);
    args.insert({st.ids[i], *arg.scratch});
  }
  st.run.execute(queue(), args);
  if (!st.args[2].direct()) {
    memory user(st.args[2].plain, e, out);
    st.args[2].reorder.execute(queue(), *st.args[2].scratch, user);
  }
}

napi_value fail(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, message.c_str());
  return nullptr;
}

bool floats(napi_env env, napi_value v, size_t want, float** out) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok) return false;
  if (type != napi_float32_array || length != want) return false;
  *out = static_cast<float*>(data);
  return true;
}

// conv(op, a, b, out, dims): op 0 forward (x, filter -> y), 1 input gradient (dy, filter -> dx),
// 2 filter gradient (x, dy -> df); dims = the 17 numbers of Shape. (Inference's fused conv + bias
// + ReLU is left to XNNPACK: measured here, it is as fast as oneDNN's.)
napi_value conv(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc != 5) return fail(env, "conv(op, a, b, out, dims) takes 5 arguments");
  int32_t op;
  if (napi_get_value_int32(env, args[0], &op) != napi_ok || op < 0 || op > 2) return fail(env, "op must be 0, 1 or 2");
  int64_t d[17];
  for (uint32_t i = 0; i < 17; i++) {
    napi_value e;
    if (napi_get_element(env, args[4], i, &e) != napi_ok || napi_get_value_int64(env, e, &d[i]) != napi_ok) return fail(env, "dims must be 17 integers");
  }
  Shape s{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15], d[16]};
  const size_t nx = s.n * s.h * s.w * s.ci, nf = s.fh * s.fw * s.ci * s.co, ny = s.n * s.oh * s.ow * s.co;
  const size_t sizes[3][3] = {{nx, nf, ny}, {ny, nf, nx}, {nx, ny, nf}};
  float *a, *b, *out;
  if (!floats(env, args[1], sizes[op][0], &a) || !floats(env, args[2], sizes[op][1], &b) || !floats(env, args[3], sizes[op][2], &out))
    return fail(env, "a, b and out must be Float32Arrays of the sizes the dims give");
  try {
    Prims& p = prims(s);
    execute(op == 0 ? p.forward : op == 1 ? p.backwardData : p.backwardWeights, a, b, out);
    queue().wait();
  } catch (const dnnl::error& err) {
    return fail(env, std::string("oneDNN: ") + err.what());
  }
  return nullptr;
}

napi_value init(napi_env env, napi_value exports) {
  napi_value fn, version;
  napi_create_function(env, "conv", NAPI_AUTO_LENGTH, conv, nullptr, &fn);
  napi_set_named_property(env, exports, "conv", fn);
  const dnnl_version_t* v = dnnl_version();
  std::string text = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_create_string_utf8(env, text.c_str(), NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "onednnVersion", version);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
