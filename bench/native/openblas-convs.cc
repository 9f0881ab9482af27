#include <cblas.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>
#include <algorithm>
// NHWC 3x3 'same' conv via im2col + sgemm; also dX and dW, for the U-Net d3/b16 layer shapes, batch 4.
static void im2col(const float* x, int N, int H, int W, int C, float* cols) {
  // cols: [N*H*W, 9*C]
  for (int n = 0; n < N; n++) for (int y = 0; y < H; y++) for (int xx = 0; xx < W; xx++) {
    float* row = cols + ((size_t)(n * H + y) * W + xx) * 9 * C;
    for (int ky = 0; ky < 3; ky++) for (int kx = 0; kx < 3; kx++) {
      int sy = y + ky - 1, sx = xx + kx - 1;
      float* dst = row + (ky * 3 + kx) * C;
      if (sy < 0 || sy >= H || sx < 0 || sx >= W) memset(dst, 0, C * sizeof(float));
      else memcpy(dst, x + ((size_t)(n * H + sy) * W + sx) * C, C * sizeof(float));
    }
  }
}
int main() {
  struct L { int H, Ci, Co; };
  // (spatial, in, out) for d3/b16 at 128x128: inc, down0..2, up2..0 (two convs each), head 1x1 skipped
  std::vector<L> ls = {{128,2,16},{128,16,16},{64,16,32},{64,32,32},{32,32,64},{32,64,64},{16,64,64},{16,64,64},
                       {32,128,64},{32,64,32},{64,64,32},{64,32,16},{128,32,16},{128,16,16}};
  int N = 4; double total = 0, flops = 0;
  for (int rep = 0; rep < 3; rep++) {
    total = 0; flops = 0;
    for (auto l : ls) {
      int H = l.H, W = l.H, M = N * H * W, K = 9 * l.Ci;
      std::vector<float> x((size_t)M * l.Ci, 0.5f), w((size_t)K * l.Co, 0.01f), y((size_t)M * l.Co), cols((size_t)M * K), dw((size_t)K * l.Co), dcols((size_t)M * K);
      auto t0 = std::chrono::steady_clock::now();
      im2col(x.data(), N, H, W, l.Ci, cols.data());
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, l.Co, K, 1, cols.data(), K, w.data(), l.Co, 0, y.data(), l.Co);   // forward
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, l.Co, M, 1, cols.data(), K, y.data(), l.Co, 0, dw.data(), l.Co);     // dW = cols^T dY
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, l.Co, 1, y.data(), l.Co, w.data(), l.Co, 0, dcols.data(), K);     // dcols = dY W^T (then col2im)
      auto t1 = std::chrono::steady_clock::now();
      total += std::chrono::duration<double>(t1 - t0).count();
      flops += 3.0 * 2.0 * M * K * l.Co;
    }
    printf("convs of one training step (fwd+dW+dX, no col2im): %.1f ms, %.1f GFLOP/s\n", total * 1e3, flops / total / 1e9);
  }
}
