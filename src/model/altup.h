// AltUp ("alternating updates", Gemma 3n): the residual stream is S parallel d-wide streams; only
// the active one goes through attention and MLP, learned coefficients predict the layer's effect
// on every stream and correct them afterwards (gemma-models.md §2.5). Pure functions on f32
// rows, one token at a time; the Session calls them per token.
#pragma once

#include <cstdint>

namespace gemma {

// tanh(router . (rms_norm(x, router_norm) / d)): S router outputs ("modalities") for one token.
// router is [S, d] row-major. Note the 1/d (not 1/sqrt(d)) input scale.
void AltupModalities(const float* x, int64_t d, const float* router_norm, const float* router,
                     int n_streams, float eps, float* modalities);

// pred_i = s_i + sum_j (sum_p c_p * coef[(i*S + j)*S + p]) * s_j for every stream i, where c are
// the modalities of the active stream; coef is HF's prediction_coefs weight [S*S, S].
// streams[i] and pred[i] point to d floats each (distinct buffers).
void AltupPredict(const float* const* streams, int n_streams, int64_t d, const float* modalities,
                  const float* coef, float* const* pred);

// s_i = pred_i + (sum_p c_p * coef[i*S + p] + 1) * (activated - pred_active), with c the
// modalities of `activated` (the layer output of the active stream); coef is [S, S].
void AltupCorrect(const float* const* pred, int n_streams, int active, int64_t d,
                  const float* activated, const float* modalities, const float* coef,
                  float* const* streams);

// Root mean square of x (the "magnitude" AltUp matches between streams).
float RootMeanSquare(const float* x, int64_t n);

// x *= target_rms / rms(x), with HF's floor of 1e-5 on the mean square.
void RescaleToRms(float* x, int64_t n, float target_rms);

}  // namespace gemma
