// Model: an opened checkpoint with its weights bound. Immutable once loaded, so any number of
// Sessions (each with its own KV cache and scratch) may share one Model across threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "formats/checkpoint.h"
#include "gemma/model_config.h"
#include "model/weights.h"

namespace gemma {

class Model {
 public:
  // Opens a Hugging Face directory or a GGUF file and binds its weights. Throws Error.
  static std::shared_ptr<const Model> Load(const std::string& path);
  // The same with the config edited before binding: for tests that switch one architectural
  // feature off and check that the golden comparison notices.
  // Binds an already opened checkpoint (e.g. a synthetic one built in memory).
  static std::shared_ptr<const Model> FromCheckpoint(Checkpoint checkpoint);
  static std::shared_ptr<const Model> LoadWithConfigEdit(
      const std::string& path, const std::function<void(ModelConfig&)>& edit);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const Checkpoint& checkpoint() const { return checkpoint_; }

 private:
  Model() = default;
  Checkpoint checkpoint_;
  ModelConfig config_;
  ModelWeights weights_;
};

}  // namespace gemma
