// Refusal of fields Mezzo cannot honour (unsupported_fields.hpp).
#include "master/unsupported_fields.hpp"

#include <google/protobuf/repeated_ptr_field.h>

namespace mezzo::master {

namespace {

using Source = v1::Volume::Source;

std::string unsupported(const std::string& field, const std::string& why) {
  return "Unsupported '" + field + "': " + why;
}

std::string secretVariable(const v1::CommandInfo& command, const std::string& path) {
  const auto& variables = command.environment().variables();
  for (int i = 0; i < variables.size(); ++i) {
    const v1::Environment::Variable& variable = variables[i];
    if (variable.type() == v1::Environment::Variable::SECRET || variable.has_secret()) {
      return unsupported(path + ".environment.variables[" + std::to_string(i) + "]",
                         "variable '" + variable.name() + "' is a SECRET; Mezzo resolves no secrets");
    }
  }
  return {};
}

std::string unsupportedVolume(const v1::Volume& volume, const std::string& path) {
  if (volume.has_image()) return unsupported(path + ".image", "image volumes need container images, not supported");
  if (!volume.has_source()) {
    if (volume.has_host_path()) return {};
    return unsupported(path, "a volume needs 'host_path' or a 'source'");
  }
  const Source& source = volume.source();
  if (source.has_secret() || source.type() == Source::SECRET) {
    return unsupported(path + ".source", "SECRET volumes are not supported; Mezzo resolves no secrets");
  }
  switch (source.type()) {
    case Source::HOST_PATH:
    case Source::SANDBOX_PATH:
      return {};
    default:
      return unsupported(path + ".source.type", "volume source " + Source::Type_Name(source.type()) +
                                                    " is not supported (only HOST_PATH and SANDBOX_PATH)");
  }
}

std::string unsupportedContainer(const v1::ContainerInfo& container, const std::string& path) {
  if (container.has_docker()) return unsupported(path + ".docker", "DOCKER containers are not supported");
  if (container.type() != v1::ContainerInfo::MESOS) {
    return unsupported(path + ".type", v1::ContainerInfo::Type_Name(container.type()) +
                                           " containers are not supported (only MESOS without an image)");
  }
  if (container.mesos().has_image()) {
    return unsupported(path + ".mesos.image", "container images are not supported");
  }
  if (container.network_infos_size() > 0) {
    return unsupported(path + ".network_infos", "container networks (CNI) are not supported");
  }
  for (int i = 0; i < container.volumes_size(); ++i) {
    std::string error = unsupportedVolume(container.volumes(i), path + ".volumes[" + std::to_string(i) + "]");
    if (!error.empty()) return error;
  }
  return {};
}

std::string gpuResources(const google::protobuf::RepeatedPtrField<v1::Resource>& resources, const std::string& path) {
  for (const v1::Resource& resource : resources) {
    if (resource.name() == "gpus" && resource.scalar().value() > 0) {
      return unsupported(path, "GPUs are not supported (the agent has no GPU isolator)");
    }
  }
  return {};
}

// The first non-empty message of `checks`, in order.
template <typename... Checks>
std::string firstOf(Checks&&... checks) {
  std::string error;
  ((error.empty() ? void(error = checks()) : void()), ...);
  return error;
}

}  // namespace

std::string unsupportedExecutorField(const v1::ExecutorInfo& executor, const std::string& path) {
  return firstOf([&] { return secretVariable(executor.command(), path + ".command"); },
                 [&] { return executor.has_container() ? unsupportedContainer(executor.container(), path + ".container")
                                                       : std::string(); },
                 [&] { return gpuResources(executor.resources(), path + ".resources"); });
}

std::string unsupportedTaskField(const v1::TaskInfo& task) {
  return firstOf([&] { return secretVariable(task.command(), "command"); },
                 [&] { return task.has_container() ? unsupportedContainer(task.container(), "container") : std::string(); },
                 [&] { return secretVariable(task.health_check().command(), "health_check.command"); },
                 [&] { return gpuResources(task.resources(), "resources"); },
                 [&] { return task.has_executor() ? unsupportedExecutorField(task.executor(), "executor") : std::string(); });
}

}  // namespace mezzo::master
