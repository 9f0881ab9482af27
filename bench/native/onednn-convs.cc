#include <dnnl.hpp>
#include <chrono>
#include <cstdio>
#include <vector>
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;
int main() {
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  struct L { int H, Ci, Co; };
  std::vector<L> ls = {{128,2,16},{128,16,16},{64,16,32},{64,32,32},{32,32,64},{32,64,64},{16,64,64},{16,64,64},
                       {32,128,64},{32,64,32},{64,64,32},{64,32,16},{128,32,16},{128,16,16}};
  const int N = 4;
  struct Prims { convolution_forward fwd; convolution_backward_data bwd_d; convolution_backward_weights bwd_w;
    memory src, wei, bias, dst, dsrc, dwei, dbias; };
  std::vector<Prims> ps;
  double flops = 0;
  for (auto l : ls) {
    memory::dims src_d = {N, l.Ci, l.H, l.H}, wei_d = {l.Co, l.Ci, 3, 3}, bias_d = {l.Co}, dst_d = {N, l.Co, l.H, l.H};
    memory::dims strides = {1, 1}, pad = {1, 1};
    auto src_md = memory::desc(src_d, dt::f32, tag::nhwc), dst_md = memory::desc(dst_d, dt::f32, tag::nhwc);
    auto wei_any = memory::desc(wei_d, dt::f32, tag::hwio), bias_md = memory::desc(bias_d, dt::f32, tag::x);
    auto fd = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src_md, wei_any, bias_md, dst_md, strides, pad, pad);
    auto fpd = convolution_forward::primitive_desc(fd, eng);
    auto bdd = convolution_backward_data::desc(algorithm::convolution_direct, src_md, wei_any, dst_md, strides, pad, pad);
    auto bdpd = convolution_backward_data::primitive_desc(bdd, eng, fpd);
    auto bwd = convolution_backward_weights::desc(algorithm::convolution_direct, src_md, wei_any, bias_md, dst_md, strides, pad, pad);
    auto bwpd = convolution_backward_weights::primitive_desc(bwd, eng, fpd);
    Prims p{convolution_forward(fpd), convolution_backward_data(bdpd), convolution_backward_weights(bwpd),
      memory(src_md, eng), memory(wei_any, eng), memory(bias_md, eng), memory(dst_md, eng), memory(src_md, eng), memory(wei_any, eng), memory(bias_md, eng)};
    ps.push_back(p);
    flops += 3.0 * 2.0 * N * l.H * l.H * 9.0 * l.Ci * l.Co;
  }
  for (int rep = 0; rep < 5; rep++) {
    auto t0 = std::chrono::steady_clock::now();
    for (auto& p : ps) {
      p.fwd.execute(s, {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, p.wei}, {DNNL_ARG_BIAS, p.bias}, {DNNL_ARG_DST, p.dst}});
      p.bwd_d.execute(s, {{DNNL_ARG_DIFF_DST, p.dst}, {DNNL_ARG_WEIGHTS, p.wei}, {DNNL_ARG_DIFF_SRC, p.dsrc}});
      p.bwd_w.execute(s, {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_DIFF_DST, p.dst}, {DNNL_ARG_DIFF_WEIGHTS, p.dwei}, {DNNL_ARG_DIFF_BIAS, p.dbias}});
    }
    s.wait();
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf("oneDNN convs of one training step (fwd+dX+dW, nhwc/hwio): %.1f ms, %.1f GFLOP/s\n", t * 1e3, flops / t / 1e9);
  }
}
