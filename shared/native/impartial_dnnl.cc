// Native kernels for the tfjs wasm backend on CPUs, through oneDNN (Debian's libdnnl) and OpenMP:
// convolutions (forward, gradient with respect to the input and to the weights), one call per
// U-Net layer forward and backward, max-pool gradient, slicing, and the ImPartial loss's pass and
// gradient. They work on tfjs' own layouts (activations NHWC, filters HWIO), reading and writing the
// caller's Float32Arrays in place (views on the wasm heap). Primitives and the reorders to and
// from the layouts they choose are built once per shape and kept, per thread (training and
// inference run in separate workers).
#include <node_api.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <algorithm>
#include <cmath>
#include <limits>
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

// One primitive and its arguments; the last argument is the output.
struct Step {
  dnnl::primitive run;
  std::vector<int> ids;
  std::vector<Arg> args;
};

Step step(dnnl::primitive run, std::vector<int> ids, const std::vector<memory::desc>& plain, const std::vector<memory::desc>& chosen) {
  Step s{run, ids, std::vector<Arg>(ids.size())};
  for (size_t i = 0; i < ids.size(); i++) {
    Arg& a = s.args[i];
    a.plain = plain[i];
    a.chosen = chosen[i];
    if (a.direct()) continue;
    a.scratch.reset(new memory(chosen[i], cpu()));
    memory plainMemory(plain[i], cpu(), DNNL_MEMORY_NONE);
    a.reorder = i + 1 < ids.size() ? dnnl::reorder(plainMemory, *a.scratch) : dnnl::reorder(*a.scratch, plainMemory);
  }
  return s;
}

// Runs one step on plain buffers: inputs reordered into the chosen layouts where they differ,
// the output reordered back.
void execute(Step& st, const std::vector<float*>& plain) {
  std::unordered_map<int, memory> args;
  const size_t last = st.args.size() - 1;
  for (size_t i = 0; i <= last; i++) {
    Arg& a = st.args[i];
    memory user(a.plain, cpu(), plain[i]);
    if (a.direct()) { args.insert({st.ids[i], user}); continue; }
    if (i < last) a.reorder.execute(queue(), user, *a.scratch);
    args.insert({st.ids[i], *a.scratch});
  }
  st.run.execute(queue(), args);
  Arg& out = st.args[last];
  if (!out.direct()) {
    memory user(out.plain, cpu(), plain[last]);
    out.reorder.execute(queue(), *out.scratch, user);
  }
  queue().wait();
}

// The three passes of one convolution. `layer`: the forward also adds a bias and, with `relu`,
// applies ReLU (one kernel, oneDNN post-op); the gradients are those of the bare convolution.
struct Prims { Step forward, backwardData, backwardWeights; };

// Whether convolutions read their inputs (activations, filters, output gradients) as bfloat16 and
// accumulate and write float32: mixed precision, as on GPUs. On CPUs with AMX or AVX512-BF16 the
// convolutions run about 3x faster; elsewhere oneDNN has only a slow reference kernel for it.
// Per thread, as the primitives are: each worker chooses for itself (a model export computes in float32).
bool& bf16Inputs() { thread_local bool on = false; return on; }

Prims& prims(const Shape& s, bool layer = false, bool relu = false) {
  thread_local std::map<std::string, std::unique_ptr<Prims>> cache;
  const bool bf = bf16Inputs();
  const std::string key = s.key() + (layer ? "L" : "") + (relu ? "R" : "") + (bf ? "B" : "");
  // Each entry keeps scratch buffers; a long-lived worker that sees many image sizes starts over.
  if (cache.size() >= 64 && !cache.count(key)) cache.clear();
  auto& slot = cache[key];
  if (slot) return *slot;
  const dt in = bf ? dt::bf16 : dt::f32;
  // oneDNN's logical dims are n,c,h,w and o,i,h,w; the format tags say how memory is laid out.
  memory::desc x({s.n, s.ci, s.h, s.w}, dt::f32, tag::nhwc);
  memory::desc f({s.co, s.ci, s.fh, s.fw}, dt::f32, tag::hwio);
  memory::desc y({s.n, s.co, s.oh, s.ow}, dt::f32, tag::nhwc);
  memory::desc b({s.co}, dt::f32, tag::x);
  // bfloat16 kernels (brgconv) run as fast on NHWC as on blocked layouts: activations stay NHWC, so their
  // float32 results need no reorder and their inputs only a conversion.
  const tag act = bf ? tag::nhwc : tag::any;
  memory::desc xa({s.n, s.ci, s.h, s.w}, in, act), dxa({s.n, s.ci, s.h, s.w}, dt::f32, act);
  memory::desc fa({s.co, s.ci, s.fh, s.fw}, in, tag::any), dfa({s.co, s.ci, s.fh, s.fw}, dt::f32, tag::any);
  memory::desc ya({s.n, s.co, s.oh, s.ow}, dt::f32, act), dya({s.n, s.co, s.oh, s.ow}, in, act);
  memory::dims strides = {s.sh, s.sw}, dilation = {s.dh - 1, s.dw - 1}, padL = {s.pt, s.pl}, padR = {s.pb, s.pr};
  auto algo = dnnl::algorithm::convolution_direct;
  auto training = dnnl::prop_kind::forward_training;
  dnnl::convolution_forward::primitive_desc bare(dnnl::convolution_forward::desc(training, algo, xa, fa, ya, strides, dilation, padL, padR), cpu());
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  dnnl::convolution_forward::primitive_desc fwd = layer
      ? dnnl::convolution_forward::primitive_desc(dnnl::convolution_forward::desc(training, algo, xa, fa, b, ya, strides, dilation, padL, padR), attr, cpu())
      : bare;
  dnnl::convolution_backward_data::primitive_desc bwdData(
      dnnl::convolution_backward_data::desc(algo, dxa, fa, dya, strides, dilation, padL, padR), cpu(), bare);
  // A layer's filter gradient also sums its bias gradient, in the same pass over the output gradient.
  dnnl::convolution_backward_weights::primitive_desc bwdWeights(
      layer ? dnnl::convolution_backward_weights::desc(algo, xa, dfa, b, dya, strides, dilation, padL, padR)
            : dnnl::convolution_backward_weights::desc(algo, xa, dfa, dya, strides, dilation, padL, padR),
      cpu(), bare);
  Step forward = layer
      ? step(dnnl::convolution_forward(fwd), {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST}, {x, f, b, y}, {fwd.src_desc(), fwd.weights_desc(), b, fwd.dst_desc()})
      : step(dnnl::convolution_forward(fwd), {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}, {x, f, y}, {fwd.src_desc(), fwd.weights_desc(), fwd.dst_desc()});
  slot.reset(new Prims{std::move(forward),
      step(dnnl::convolution_backward_data(bwdData), {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC}, {y, f, x},
           {bwdData.diff_dst_desc(), bwdData.weights_desc(), bwdData.diff_src_desc()}),
      layer ? step(dnnl::convolution_backward_weights(bwdWeights), {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_BIAS, DNNL_ARG_DIFF_WEIGHTS},
                   {x, y, b, f}, {bwdWeights.src_desc(), bwdWeights.diff_dst_desc(), b, bwdWeights.diff_weights_desc()})
            : step(dnnl::convolution_backward_weights(bwdWeights), {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS}, {x, y, f},
                   {bwdWeights.src_desc(), bwdWeights.diff_dst_desc(), bwdWeights.diff_weights_desc()})});
  return *slot;
}

// The implementation oneDNN picks for a bfloat16 3x3 convolution of a U-Net's size ("brgconv:avx512_core_amx_bf16",
// "jit:avx512_core_bf16", or "ref:any" where the CPU has no bfloat16 instructions).
std::string bf16Kernel() {
  memory::desc x({4, 32, 64, 64}, dt::bf16, tag::any), f({32, 32, 3, 3}, dt::bf16, tag::any), y({4, 32, 64, 64}, dt::f32, tag::any);
  dnnl::convolution_forward::primitive_desc pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, x, f, y, {1, 1}, {0, 0}, {1, 1}, {1, 1}), cpu());
  return pd.impl_info_str();
}

// Dropout's keep/drop decision for element i of the call with this seed: a hash, not a stored
// mask, so the backward pass (and a test) can draw the same mask again.
inline bool kept(uint32_t seed, uint64_t i, uint64_t threshold) {
  uint64_t z = ((static_cast<uint64_t>(seed) << 32) | (i & 0xffffffffu)) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return ((z ^ (z >> 31)) >> 32) < threshold;
}

uint64_t keepThreshold(double rate) { return static_cast<uint64_t>((1.0 - rate) * 4294967296.0); }

// Channel concatenation of two NHWC tensors (pixels x c0, pixels x c1) into pixels x (c0 + c1), and back.
void concatChannels(const float* a, const float* b, float* out, int64_t pixels, int64_t c0, int64_t c1) {
#pragma omp parallel for
  for (int64_t p = 0; p < pixels; p++) {
    std::copy(a + p * c0, a + (p + 1) * c0, out + p * (c0 + c1));
    std::copy(b + p * c1, b + (p + 1) * c1, out + p * (c0 + c1) + c0);
  }
}

void splitChannels(const float* in, float* a, float* b, int64_t pixels, int64_t c0, int64_t c1) {
#pragma omp parallel for
  for (int64_t p = 0; p < pixels; p++) {
    std::copy(in + p * (c0 + c1), in + p * (c0 + c1) + c0, a + p * c0);
    std::copy(in + p * (c0 + c1) + c0, in + (p + 1) * (c0 + c1), b + p * c1);
  }
}

float* scratch(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
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

bool readInts(napi_env env, napi_value v, int64_t* out, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_value_int64(env, e, &out[i]) != napi_ok) return false;
  }
  return true;
}

bool readShape(napi_env env, napi_value v, Shape* s) {
  int64_t d[17];
  if (!readInts(env, v, d, 17)) return false;
  *s = Shape{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15], d[16]};
  return true;
}

// An optional Float32Array: null or undefined gives nullptr.
bool maybeFloats(napi_env env, napi_value v, size_t want, float** out) {
  napi_valuetype type;
  napi_typeof(env, v, &type);
  if (type == napi_null || type == napi_undefined) { *out = nullptr; return true; }
  return floats(env, v, want, out);
}

std::vector<napi_value> arguments(napi_env env, napi_callback_info info, size_t count) {
  std::vector<napi_value> args(count);
  size_t argc = count;
  napi_get_cb_info(env, info, &argc, args.data(), nullptr, nullptr);
  if (argc != count) args.clear();
  return args;
}

// conv(op, a, b, out, dims): op 0 forward (x, filter -> y), 1 input gradient (dy, filter -> dx),
// 2 filter gradient (x, dy -> df); dims = the 17 numbers of Shape.
napi_value conv(napi_env env, napi_callback_info info) {
  auto args = arguments(env, info, 5);
  if (args.empty()) return fail(env, "conv(op, a, b, out, dims) takes 5 arguments");
  int32_t op;
  if (napi_get_value_int32(env, args[0], &op) != napi_ok || op < 0 || op > 2) return fail(env, "op must be 0, 1 or 2");
  Shape s;
  if (!readShape(env, args[4], &s)) return fail(env, "dims must be 17 integers");
  const size_t nx = s.n * s.h * s.w * s.ci, nf = s.fh * s.fw * s.ci * s.co, ny = s.n * s.oh * s.ow * s.co;
  const size_t sizes[3][3] = {{nx, nf, ny}, {ny, nf, nx}, {nx, ny, nf}};
  float *a, *b, *out;
  if (!floats(env, args[1], sizes[op][0], &a) || !floats(env, args[2], sizes[op][1], &b) || !floats(env, args[3], sizes[op][2], &out))
    return fail(env, "a, b and out must be Float32Arrays of the sizes the dims give");
  try {
    Prims& p = prims(s);
    execute(op == 0 ? p.forward : op == 1 ? p.backwardData : p.backwardWeights, {a, b, out});
  } catch (const dnnl::error& err) {
    return fail(env, std::string("oneDNN: ") + err.what());
  }
  return nullptr;
}

// What a U-Net layer call passes: the convolution's shape, where its input channels split
// between the two inputs (skip connection, upsampled path), ReLU or not, the dropout rate and seed.
struct Layer {
  Shape s;
  int64_t c0;  // channels of the first input; a second input has s.ci - c0 (none when c0 == s.ci)
  bool relu;
  double rate;
  uint32_t seed;
};

bool readLayer(napi_env env, napi_value dims, napi_value c0, napi_value relu, napi_value rate, napi_value seed, Layer* l) {
  if (!readShape(env, dims, &l->s)) return false;
  if (napi_get_value_int64(env, c0, &l->c0) != napi_ok || l->c0 < 1 || l->c0 > l->s.ci) return false;
  if (napi_get_value_bool(env, relu, &l->relu) != napi_ok) return false;
  if (napi_get_value_double(env, rate, &l->rate) != napi_ok || l->rate < 0 || l->rate >= 1) return false;
  return napi_get_value_uint32(env, seed, &l->seed) == napi_ok;
}

// layerForward(x0, x1 | null, filter, bias, out, dims, c0, relu, rate, seed):
// out = dropout(relu(conv(concat(x0, x1), filter) + bias)), one call for what tfjs runs as five
// kernels (concat, conv, add, relu, multiply), without storing a dropout mask.
napi_value layerForward(napi_env env, napi_callback_info info) {
  auto args = arguments(env, info, 10);
  if (args.empty()) return fail(env, "layerForward takes 10 arguments");
  Layer l;
  if (!readLayer(env, args[5], args[6], args[7], args[8], args[9], &l)) return fail(env, "layerForward: bad dims, c0, relu, rate or seed");
  const Shape& s = l.s;
  const int64_t pixels = s.n * s.h * s.w, c1 = s.ci - l.c0, ny = s.n * s.oh * s.ow * s.co;
  float *x0, *x1, *f, *b, *out;
  if (!floats(env, args[0], pixels * l.c0, &x0) || !maybeFloats(env, args[1], pixels * c1, &x1) || (c1 > 0) != (x1 != nullptr) ||
      !floats(env, args[2], s.fh * s.fw * s.ci * s.co, &f) || !floats(env, args[3], s.co, &b) || !floats(env, args[4], ny, &out))
    return fail(env, "layerForward: x0, x1, filter, bias and out must be Float32Arrays of the sizes the dims give");
  thread_local std::vector<float> catBuffer;
  try {
    float* x = x0;
    if (x1) concatChannels(x0, x1, x = scratch(catBuffer, pixels * s.ci), pixels, l.c0, c1);
    execute(prims(s, true, l.relu).forward, {x, f, b, out});
  } catch (const dnnl::error& err) {
    return fail(env, std::string("oneDNN: ") + err.what());
  }
  if (l.rate > 0) {
    const uint64_t threshold = keepThreshold(l.rate);
    const float scale = static_cast<float>(1.0 / (1.0 - l.rate));
#pragma omp parallel for
    for (int64_t i = 0; i < ny; i++) out[i] = kept(l.seed, i, threshold) ? out[i] * scale : 0.f;
  }
  return nullptr;
}

// layerBackward(x0, x1 | null, filter, out, dOut, dx0, dx1 | null, dFilter, dBias, dims, c0, relu, rate, seed):
// the gradients of layerForward from its output and the output's gradient. With ReLU, out > 0
// exactly where both ReLU and dropout let the gradient through; without, the mask is drawn again.
napi_value layerBackward(napi_env env, napi_callback_info info) {
  auto args = arguments(env, info, 14);
  if (args.empty()) return fail(env, "layerBackward takes 14 arguments");
  Layer l;
  if (!readLayer(env, args[9], args[10], args[11], args[12], args[13], &l)) return fail(env, "layerBackward: bad dims, c0, relu, rate or seed");
  const Shape& s = l.s;
  const int64_t pixels = s.n * s.h * s.w, c1 = s.ci - l.c0, co = s.co, outPixels = s.n * s.oh * s.ow, nf = s.fh * s.fw * s.ci * s.co;
  float *x0, *x1, *f, *z, *dz, *dx0, *dx1, *df, *db;
  if (!floats(env, args[0], pixels * l.c0, &x0) || !maybeFloats(env, args[1], pixels * c1, &x1) || (c1 > 0) != (x1 != nullptr) ||
      !floats(env, args[2], nf, &f) || !floats(env, args[3], outPixels * co, &z) || !floats(env, args[4], outPixels * co, &dz) ||
      !floats(env, args[5], pixels * l.c0, &dx0) || !maybeFloats(env, args[6], pixels * c1, &dx1) || (x1 != nullptr) != (dx1 != nullptr) ||
      !floats(env, args[7], nf, &df) || !floats(env, args[8], co, &db))
    return fail(env, "layerBackward: the arrays must be Float32Arrays of the sizes the dims give");
  thread_local std::vector<float> gradBuffer, catBuffer;
  float* g = scratch(gradBuffer, outPixels * co);
  const uint64_t threshold = keepThreshold(l.rate);
  const float scale = l.rate > 0 ? static_cast<float>(1.0 / (1.0 - l.rate)) : 1.f;
  const int64_t n = outPixels * co;
  // With ReLU, out > 0 means the unit was active and kept: the gradient is dOut * scale.
  if (l.relu) {
#pragma omp parallel for simd
    for (int64_t i = 0; i < n; i++) g[i] = z[i] > 0.f ? dz[i] * scale : 0.f;
  } else if (l.rate > 0) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; i++) g[i] = kept(l.seed, i, threshold) ? dz[i] * scale : 0.f;
  } else {
    std::copy(dz, dz + n, g);
  }
  try {
    Prims& p = prims(s, true, l.relu);
    float* x = x0;
    if (x1) concatChannels(x0, x1, x = scratch(catBuffer, pixels * s.ci), pixels, l.c0, c1);
    execute(p.backwardWeights, {x, g, db, df});
    // the concatenated input is no longer needed: its buffer takes the concatenated input gradient
    execute(p.backwardData, {g, f, x1 ? x : dx0});
    if (x1) splitChannels(x, dx0, dx1, pixels, l.c0, c1);
  } catch (const dnnl::error& err) {
    return fail(env, std::string("oneDNN: ") + err.what());
  }
  return nullptr;
}

// dropoutMask(seed, rate, out): the factors layerForward multiplied by (0 or 1 / (1 - rate)), for tests.
napi_value dropoutMask(napi_env env, napi_callback_info info) {
  auto args = arguments(env, info, 3);
  uint32_t seed;
  double rate;
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (args.empty() || napi_get_value_uint32(env, args[0], &seed) != napi_ok || napi_get_value_double(env, args[1], &rate) != napi_ok ||
      rate < 0 || rate >= 1 || napi_get_typedarray_info(env, args[2], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_float32_array)
    return fail(env, "dropoutMask(seed, rate in [0, 1), out: Float32Array)");
  float* out = static_cast<float*>(data);
  const uint64_t threshold = keepThreshold(rate);
  const float scale = static_cast<float>(1.0 / (1.0 - rate));
  for (size_t i = 0; i < length; i++) out[i] = kept(seed, i, threshold) ? scale : 0.f;
  return nullptr;
}

// maxPool(x, y, dims): tfjs' MaxPool on NHWC float32, the window's largest value (dims as maxPoolGrad's).
napi_value maxPool(napi_env env, napi_callback_info info) {
  auto args = arguments(env, info, 3);
  int64_t d[12];
  if (args.empty() || !readInts(env, args[2], d, 12)) return fail(env, "maxPool(x, y, dims: 12 integers)");
  const int64_t n = d[0], h = d[1], w = d[2], c = d[3], oh = d[4], ow = d[5], fh = d[6], fw = d[7], sh = d[8], sw = d[9], pt = d[10], pl = d[11];
  float *x, *y;
  if (!floats(env, args[0], n * h * w * c, &x) || !floats(env, args[1], n * oh * ow * c, &y))
    return fail(env, "maxPool: x and y must be Float32Arrays of the sizes the dims give");
#pragma omp parallel for collapse(2)
  for (int64_t b = 0; b < n; b++) {
    for (int64_t r = 0; r < oh; r++) {
      float* out = y + (b * oh + r) * ow * c;
      for (int64_t q = 0; q < ow; q++) {
        float* o = out + q * c;
        std::fill(o, o + c, -std::numeric_limits<float>::infinity());
        for (int64_t i = 0; i < fh; i++) {
          const int64_t yy = r * sh - pt + i;
          if (yy < 0 || yy >= h) continue;
          for (int64_t j = 0; j < fw; j++) {
            const int64_t xx = q * sw - pl + j;
            if (xx < 0 || xx >= w) continue;
            const float* v = x + ((b * h + yy) * w + xx) * c;
            for (int64_t ch = 0; ch < c; ch++) o[ch] = std::max(o[ch], v[ch]);
          }
        }
      }
    }
  }
  return nullptr;
}

// maxPoolGrad(x, dy, dx, dims): the gradient of a max pool (NHWC), each output's gradient going to
// the first largest input of its window in row-major order, as tfjs' cpu backend does.
// dims = [n, h, w, c, oh, ow, fh, fw, sh, sw, padTop, padLeft].
napi_value maxPoolGrad(napi_env env, napi_callback_info info) {
  auto args = arguments(env, info, 4);
  int64_t d[12];
  if (args.empty() || !readInts(env, args[3], d, 12)) return fail(env, "maxPoolGrad(x, dy, dx, dims: 12 integers)");
  const int64_t n = d[0], h = d[1], w = d[2], c = d[3], oh = d[4], ow = d[5], fh = d[6], fw = d[7], sh = d[8], sw = d[9], pt = d[10], pl = d[11];
  float *x, *dy, *dx;
  if (!floats(env, args[0], n * h * w * c, &x) || !floats(env, args[1], n * oh * ow * c, &dy) || !floats(env, args[2], n * h * w * c, &dx))
    return fail(env, "maxPoolGrad: x, dy and dx must be Float32Arrays of the sizes the dims give");
  std::fill(dx, dx + n * h * w * c, 0.f);
  // Parallel over images and output rows when row windows do not overlap (stride >= window), else serial.
  const bool rowsApart = sh >= fh;
#pragma omp parallel for collapse(2) if (rowsApart)
  for (int64_t b = 0; b < n; b++) {
    for (int64_t r = 0; r < oh; r++) {
      // Per output pixel, every channel's running maximum and where it is, window pixel by window pixel.
      std::vector<float> best(c);
      std::vector<int64_t> at(c);
      for (int64_t q = 0; q < ow; q++) {
        std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
        std::fill(at.begin(), at.end(), -1);
        for (int64_t i = 0; i < fh; i++) {
          const int64_t y = r * sh - pt + i;
          if (y < 0 || y >= h) continue;
          for (int64_t j = 0; j < fw; j++) {
            const int64_t xx = q * sw - pl + j;
            if (xx < 0 || xx >= w) continue;
            const int64_t k = ((b * h + y) * w + xx) * c;
            for (int64_t ch = 0; ch < c; ch++)
              if (x[k + ch] > best[ch] || at[ch] < 0) { best[ch] = x[k + ch]; at[ch] = k + ch; }
          }
        }
        const float* g = dy + ((b * oh + r) * ow + q) * c;
        for (int64_t ch = 0; ch < c; ch++)
          if (at[ch] >= 0) dx[at[ch]] += g[ch];
      }
    }
  }
  return nullptr;
}

// Where bilinear resizing reads each output coordinate of one axis from, as tfjs computes it: the
// lower and upper source index and the weight of the upper one.
struct ResizeAxis {
  std::vector<int64_t> lo, hi;
  std::vector<float> frac;
  ResizeAxis(int64_t in, int64_t out, bool alignCorners, bool halfPixelCenters) : lo(out), hi(out), frac(out) {
    const bool aligned = alignCorners && out > 1;
    const double ratio = static_cast<double>(aligned ? in - 1 : in) / static_cast<double>(aligned ? out - 1 : out);
    for (int64_t o = 0; o < out; o++) {
      const double at = halfPixelCenters ? ratio * (o + 0.5) - 0.5 : ratio * o;
      lo[o] = std::max<int64_t>(0, static_cast<int64_t>(std::floor(at)));
      hi[o] = std::min<int64_t>(in - 1, static_cast<int64_t>(std::ceil(at)));
      frac[o] = static_cast<float>(at - static_cast<double>(lo[o]));
    }
  }
  // For each source index, the output coordinates that read it and with what weight (for gradients).
  std::vector<std::vector<std::pair<int64_t, float>>> readers(int64_t in) const {
    std::vector<std::vector<std::pair<int64_t, float>>> r(in);
    for (size_t o = 0; o < lo.size(); o++) {
      r[lo[o]].push_back({static_cast<int64_t>(o), 1.f - frac[o]});
      r[hi[o]].push_back({static_cast<int64_t>(o), frac[o]});
    }
    return r;
  }
};

// The arguments of resizeBilinear and its gradient: the input and output arrays, of n x h x w x c and
// n x oh x ow x c floats (the other way round for the gradient), and 8 dims. False on a mismatch.
bool resizeArgs(napi_env env, napi_callback_info info, bool gradient, float** in, float** out, int64_t* d) {
  auto args = arguments(env, info, 3);
  if (args.empty() || !readInts(env, args[2], d, 8)) return false;
  const int64_t n = d[0], h = d[1], w = d[2], c = d[3], oh = d[4], ow = d[5];
  if (n < 0 || h < 1 || w < 1 || c < 0 || oh < 1 || ow < 1) return false;
  const int64_t small = n * h * w * c, large = n * oh * ow * c;
  return floats(env, args[0], gradient ? large : small, in) && floats(env, args[1], gradient ? small : large, out);
}

// resizeBilinear(x, out, dims [n, h, w, c, oh, ow, alignCorners, halfPixelCenters]): tfjs'
// ResizeBilinear on NHWC float32, parallel over output rows.
napi_value resizeBilinear(napi_env env, napi_callback_info info) {
  int64_t d[8];
  float *x, *out;
  if (!resizeArgs(env, info, false, &x, &out, d))
    return fail(env, "resizeBilinear(x, out, dims: 8 integers): x and out must be Float32Arrays of the sizes the dims give");
  const int64_t n = d[0], h = d[1], w = d[2], c = d[3], oh = d[4], ow = d[5];
  const ResizeAxis rows(h, oh, d[6], d[7]), cols(w, ow, d[6], d[7]);
#pragma omp parallel for collapse(2)
  for (int64_t b = 0; b < n; b++) {
    for (int64_t r = 0; r < oh; r++) {
      const float* top = x + (b * h + rows.lo[r]) * w * c;
      const float* bottom = x + (b * h + rows.hi[r]) * w * c;
      const float fr = rows.frac[r];
      float* o = out + (b * oh + r) * ow * c;
      for (int64_t q = 0; q < ow; q++) {
        const float fc = cols.frac[q];
        const float *tl = top + cols.lo[q] * c, *tr = top + cols.hi[q] * c, *bl = bottom + cols.lo[q] * c, *br = bottom + cols.hi[q] * c;
        for (int64_t ch = 0; ch < c; ch++) {
          const float t = tl[ch] + (tr[ch] - tl[ch]) * fc, u = bl[ch] + (br[ch] - bl[ch]) * fc;
          o[q * c + ch] = t + (u - t) * fr;
        }
      }
    }
  }
  return nullptr;
}

// resizeBilinearGrad(dy, dx, dims as resizeBilinear's): the gradient of resizeBilinear (x is n x h x w x c,
// dy n x oh x ow x c), half-pixel centres included (tfjs' own gradients ignore them). Each source pixel
// gathers from the outputs that read it, columns first, then rows: no two threads write the same pixel.
napi_value resizeBilinearGrad(napi_env env, napi_callback_info info) {
  int64_t d[8];
  float *dy, *dx;
  if (!resizeArgs(env, info, true, &dy, &dx, d))
    return fail(env, "resizeBilinearGrad(dy, dx, dims: 8 integers): dy and dx must be Float32Arrays of the sizes the dims give");
  const int64_t n = d[0], h = d[1], w = d[2], c = d[3], oh = d[4], ow = d[5];
  const ResizeAxis rows(h, oh, d[6], d[7]), cols(w, ow, d[6], d[7]);
  const auto rowReaders = rows.readers(h), colReaders = cols.readers(w);
  thread_local std::vector<float> columnBuffer;
  float* byColumn = scratch(columnBuffer, n * oh * w * c);  // dy summed onto source columns
#pragma omp parallel for collapse(2)
  for (int64_t b = 0; b < n; b++) {
    for (int64_t r = 0; r < oh; r++) {
      const float* g = dy + (b * oh + r) * ow * c;
      float* t = byColumn + (b * oh + r) * w * c;
      for (int64_t q = 0; q < w; q++) {
        float* tq = t + q * c;
        std::fill(tq, tq + c, 0.f);
        for (const auto& [o, weight] : colReaders[q])
          for (int64_t ch = 0; ch < c; ch++) tq[ch] += g[o * c + ch] * weight;
      }
    }
  }
#pragma omp parallel for collapse(2)
  for (int64_t b = 0; b < n; b++) {
    for (int64_t y = 0; y < h; y++) {
      float* out = dx + (b * h + y) * w * c;
      std::fill(out, out + w * c, 0.f);
      for (const auto& [r, weight] : rowReaders[y]) {
        const float* t = byColumn + (b * oh + r) * w * c;
        for (int64_t i = 0; i < w * c; i++) out[i] += t[i] * weight;
      }
    }
  }
  return nullptr;
}

// slice4(x, out, dims): out = x[b0 : b0 + s0, ..., b3 : b3 + s3] of a 4-D tensor;
// dims = [x0, x1, x2, x3, b0, b1, b2, b3, s0, s1, s2, s3].
napi_value slice4(napi_env env, napi_callback_info info) {
  auto args = arguments(env, info, 3);
  int64_t d[12];
  if (args.empty() || !readInts(env, args[2], d, 12)) return fail(env, "slice4(x, out, dims: 12 integers)");
  const int64_t *shape = d, *begin = d + 4, *size = d + 8;
  for (int i = 0; i < 4; i++)
    if (begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > shape[i]) return fail(env, "slice4: the slice is outside the tensor");
  float *x, *out;
  if (!floats(env, args[0], shape[0] * shape[1] * shape[2] * shape[3], &x) || !floats(env, args[1], size[0] * size[1] * size[2] * size[3], &out))
    return fail(env, "slice4: x and out must be Float32Arrays of the sizes the dims give");
#pragma omp parallel for collapse(2)
  for (int64_t a = 0; a < size[0]; a++) {
    for (int64_t b = 0; b < size[1]; b++) {
      for (int64_t c = 0; c < size[2]; c++) {
        const float* from = x + (((a + begin[0]) * shape[1] + b + begin[1]) * shape[2] + c + begin[2]) * shape[3] + begin[3];
        std::copy(from, from + size[3], out + ((a * size[1] + b) * size[2] + c) * size[3]);
      }
    }
  }
  return nullptr;
}

bool doubles(napi_env env, napi_value v, size_t want, double** out) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_float64_array || length != want) return false;
  *out = static_cast<double*>(data);
  return true;
}

// Cross-entropy of one class over the scribbled pixels, per patch, averaged over the patches that
// have any; grad gets its derivative with respect to the class probability.
double scribbleTerm(const double* classP, const float* scribble, int64_t n, int64_t p, double* grad) {
  std::vector<double> perPatch(n), count(n);
  int64_t patches = 0;
  for (int64_t b = 0; b < n; b++) {
    double sum = 0, s = 0;
    for (int64_t i = b * p; i < (b + 1) * p; i++) {
      if (!scribble[i]) continue;
      s += scribble[i];
      sum -= scribble[i] * std::log(std::max(classP[i], 1e-20));
    }
    count[b] = s;
    perPatch[b] = sum / std::max(s, 1.0);
    if (s > 0) patches++;
  }
  const double scale = 1.0 / std::max<double>(patches, 1);
  double total = 0;
  for (int64_t b = 0; b < n; b++) {
    total += perPatch[b];
    const double k = scale / std::max(count[b], 1.0);
    for (int64_t i = b * p; i < (b + 1) * p; i++)
      grad[i] = scribble[i] && classP[i] >= 1e-20 ? -k * scribble[i] / classP[i] : 0.0;
  }
  return total * scale;
}

// The fused loss's shape, from dims = [N, P, C, Kf, Kb]: N patches of P pixels, C channels, Kf cell
// and Kb background components (at most 64 in all); the net's output has O = K + K*C channels.
struct LossDims {
  int64_t N, P, C, Kf, Kb, K, O, pixels;
};

bool readLossDims(napi_env env, napi_value v, LossDims* out) {
  int64_t d[5];
  if (!readInts(env, v, d, 5)) return false;
  const int64_t K = d[3] + d[4];
  *out = LossDims{d[0], d[1], d[2], d[3], d[4], K, K + K * d[2], d[0] * d[1]};
  return d[0] >= 1 && d[1] >= 1 && d[2] >= 1 && d[3] >= 1 && d[4] >= 1 && K <= 64;
}

// lossPass(o, t, blind, fg, bg, dims, pi, dCell, dBackground, dPiRec, dMeans, terms): the forward
// pass of the fused ImPartial loss (shared/src/engine/fused-loss.ts, forwardPass, the same sums in
// the same order): terms = [foreground, background, reconstruction] and the per-pixel factors its
// gradient needs. dims = [N, P, C, Kf, Kb]; o is (N*P, K + K*C) with K = Kf + Kb.
napi_value lossPass(napi_env env, napi_callback_info info) {
  auto args = arguments(env, info, 12);
  LossDims s;
  if (args.empty() || !readLossDims(env, args[5], &s))
    return fail(env, "lossPass takes 12 arguments, dims = [N, P, C, Kf, Kb], each >= 1, Kf + Kb <= 64");
  const int64_t N = s.N, P = s.P, C = s.C, Kf = s.Kf, K = s.K, O = s.O, pixels = s.pixels;
  float *o, *t, *blind, *fg, *bg;
  double *pi, *dCell, *dBackground, *dPiRec, *dMeans, *terms;
  if (!floats(env, args[0], pixels * O, &o) || !floats(env, args[1], pixels * C, &t) ||
      !floats(env, args[2], pixels * C, &blind) || !floats(env, args[3], pixels, &fg) ||
      !floats(env, args[4], pixels, &bg))
    return fail(env, "lossPass: o, t, blind, fg and bg must be Float32Arrays of the sizes the dims give");
  if (!doubles(env, args[6], pixels * K, &pi) || !doubles(env, args[7], pixels, &dCell) ||
      !doubles(env, args[8], pixels, &dBackground) || !doubles(env, args[9], pixels * K, &dPiRec) ||
      !doubles(env, args[10], pixels * K * C, &dMeans) || !doubles(env, args[11], 3, &terms))
    return fail(env, "lossPass: pi, dCell, dBackground, dPiRec, dMeans and terms must be Float64Arrays "
                     "of the sizes the dims give");
  std::vector<double> cell(pixels, 0.0), back(pixels, 0.0);
#pragma omp parallel for
  for (int64_t i = 0; i < pixels; i++) {
    double max = -std::numeric_limits<double>::infinity(), z = 0;
    for (int64_t k = 0; k < K; k++) max = std::max(max, static_cast<double>(o[i * O + k]));
    for (int64_t k = 0; k < K; k++) z += pi[i * K + k] = std::exp(static_cast<double>(o[i * O + k]) - max);
    for (int64_t k = 0; k < K; k++) {
      pi[i * K + k] /= z;
      (k < Kf ? cell : back)[i] += pi[i * K + k];
    }
  }
  terms[0] = scribbleTerm(cell.data(), fg, N, P, dCell);
  terms[1] = scribbleTerm(back.data(), bg, N, P, dBackground);
  // Reconstruction, one patch per iteration: responsibility-weighted component means, each pixel
  // their pi-weighted mix; Gaussian NLL on the blind spots; then its gradient to pi and the means.
  std::vector<double> perPatch(N, 0.0);
#pragma omp parallel for
  for (int64_t b = 0; b < N; b++) {
    std::vector<double> mu(C * K, 0.0), D(K, 1e-8), G(C * K, 0.0), B(C, 0.0), xhat(P * C);
    const int64_t p0 = b * P, p1 = (b + 1) * P;
    std::fill(dPiRec + p0 * K, dPiRec + p1 * K, 0.0);
    for (int64_t p = p0; p < p1; p++)
      for (int64_t k = 0; k < K; k++) {
        const double w = pi[p * K + k];
        D[k] += w;
        for (int64_t c = 0; c < C; c++) mu[c * K + k] += w * o[p * O + K + c * K + k];
      }
    for (int64_t c = 0; c < C; c++)
      for (int64_t k = 0; k < K; k++) mu[c * K + k] /= D[k];
    for (int64_t p = p0; p < p1; p++)
      for (int64_t c = 0; c < C; c++) {
        double x = 0;
        for (int64_t k = 0; k < K; k++) x += pi[p * K + k] * mu[c * K + k];
        xhat[(p - p0) * C + c] = x;
        B[c] += blind[p * C + c];
      }
    double rec = 0;
    for (int64_t c = 0; c < C; c++) {
      double nll = 0;
      for (int64_t p = p0; p < p1; p++) {
        const double e = t[p * C + c] - xhat[(p - p0) * C + c];
        nll += blind[p * C + c] * (0.5 * e * e + 0.5 * std::log(2 * M_PI));
      }
      rec += nll / B[c];
    }
    perPatch[b] = rec;
    for (int64_t p = p0; p < p1; p++)
      for (int64_t c = 0; c < C; c++) {
        const double g = blind[p * C + c] * (xhat[(p - p0) * C + c] - t[p * C + c]) / (B[c] * N * C);
        if (g == 0) continue;
        for (int64_t k = 0; k < K; k++) {
          dPiRec[p * K + k] += g * mu[c * K + k];
          G[c * K + k] += g * pi[p * K + k];
        }
      }
    for (int64_t p = p0; p < p1; p++)
      for (int64_t k = 0; k < K; k++) {
        const double w = pi[p * K + k] / D[k];
        double dp = 0;
        for (int64_t c = 0; c < C; c++) {
          const double gk = G[c * K + k];
          dMeans[p * K * C + c * K + k] = gk * w;
          dp += gk * (o[p * O + K + c * K + k] - mu[c * K + k]) / D[k];
        }
        dPiRec[p * K + k] += dp;
      }
  }
  double reconstruction = 0;
  for (int64_t b = 0; b < N; b++) reconstruction += perPatch[b];
  terms[2] = reconstruction / (N * C);
  return nullptr;
}

// lossGradient(pi, dCell, dBackground, dPiRec, dMeans, dims, factors, out): the fused loss's
// gradient with respect to the net's output (fused-loss.ts, outputGradient) from what lossPass
// left, for factors = [aF, aB, aR] on the foreground, background and reconstruction terms.
napi_value lossGradient(napi_env env, napi_callback_info info) {
  auto args = arguments(env, info, 8);
  LossDims s;
  if (args.empty() || !readLossDims(env, args[5], &s))
    return fail(env, "lossGradient takes 8 arguments, dims = [N, P, C, Kf, Kb], each >= 1, Kf + Kb <= 64");
  const int64_t C = s.C, Kf = s.Kf, K = s.K, O = s.O, pixels = s.pixels;
  double *pi, *dCell, *dBackground, *dPiRec, *dMeans, *factors;
  float* out;
  if (!doubles(env, args[0], pixels * K, &pi) || !doubles(env, args[1], pixels, &dCell) ||
      !doubles(env, args[2], pixels, &dBackground) || !doubles(env, args[3], pixels * K, &dPiRec) ||
      !doubles(env, args[4], pixels * K * C, &dMeans) || !doubles(env, args[6], 3, &factors) ||
      !floats(env, args[7], pixels * O, &out))
    return fail(env, "lossGradient: pi, dCell, dBackground, dPiRec, dMeans and factors must be Float64Arrays and "
                     "out a Float32Array, of the sizes the dims give");
  const double aF = factors[0], aB = factors[1], aR = factors[2];
#pragma omp parallel for
  for (int64_t i = 0; i < pixels; i++) {
    double dpi[64], dot = 0;
    for (int64_t k = 0; k < K; k++) {
      dpi[k] = (k < Kf ? aF * dCell[i] : aB * dBackground[i]) + aR * dPiRec[i * K + k];
      dot += pi[i * K + k] * dpi[k];
    }
    for (int64_t k = 0; k < K; k++) out[i * O + k] = static_cast<float>(pi[i * K + k] * (dpi[k] - dot));
    for (int64_t j = 0; j < K * C; j++) out[i * O + K + j] = static_cast<float>(aR * dMeans[i * K * C + j]);
  }
  return nullptr;
}

// bf16Kernel(): the implementation a bfloat16 convolution would get here (see bf16Kernel above).
napi_value bf16KernelName(napi_env env, napi_callback_info) {
  napi_value out;
  try {
    napi_create_string_utf8(env, bf16Kernel().c_str(), NAPI_AUTO_LENGTH, &out);
  } catch (const dnnl::error& err) {
    return fail(env, std::string("oneDNN: ") + err.what());
  }
  return out;
}

// setBf16(on): convolutions this thread builds from now on take bfloat16 inputs (on) or float32 ones.
napi_value setBf16(napi_env env, napi_callback_info info) {
  auto args = arguments(env, info, 1);
  bool on;
  if (args.empty() || napi_get_value_bool(env, args[0], &on) != napi_ok) return fail(env, "setBf16(on) takes a boolean");
  bf16Inputs() = on;
  return nullptr;
}

napi_value init(napi_env env, napi_value exports) {
  napi_value version;
  const std::pair<const char*, napi_callback> functions[] = {
      {"conv", conv}, {"layerForward", layerForward}, {"layerBackward", layerBackward}, {"dropoutMask", dropoutMask},
      {"maxPoolGrad", maxPoolGrad}, {"slice4", slice4}, {"lossPass", lossPass},
      {"lossGradient", lossGradient}, {"bf16Kernel", bf16KernelName}, {"setBf16", setBf16},
      {"maxPool", maxPool}, {"resizeBilinear", resizeBilinear}, {"resizeBilinearGrad", resizeBilinearGrad}};
  for (const auto& [name, callback] : functions) {
    napi_value fn;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, nullptr, &fn);
    napi_set_named_property(env, exports, name, fn);
  }
  const dnnl_version_t* v = dnnl_version();
  std::string text = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_create_string_utf8(env, text.c_str(), NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "onednnVersion", version);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
