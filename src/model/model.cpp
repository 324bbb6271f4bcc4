#include "model/model.h"

namespace gemma {

std::shared_ptr<const Model> Model::Load(const std::string& path) {
  return LoadWithConfigEdit(path, nullptr);
}

std::shared_ptr<const Model> Model::LoadWithConfigEdit(
    const std::string& path, const std::function<void(ModelConfig&)>& edit) {
  std::shared_ptr<Model> m(new Model());
  m->checkpoint_ = OpenCheckpoint(path);
  m->config_ = m->checkpoint_.config;
  if (edit) edit(m->config_);
  m->weights_ = BindWeights(m->checkpoint_, &m->config_);
  return m;
}

}  // namespace gemma

namespace gemma {

std::shared_ptr<const Model> Model::FromCheckpoint(Checkpoint checkpoint) {
  std::shared_ptr<Model> m(new Model());
  m->checkpoint_ = std::move(checkpoint);
  m->config_ = m->checkpoint_.config;
  m->weights_ = BindWeights(m->checkpoint_, &m->config_);
  return m;
}

}  // namespace gemma
