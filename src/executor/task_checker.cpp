// Reporting a task's general check results (see the header).
#include "executor/task_checker.hpp"

#include <google/protobuf/util/message_differencer.h>

#include "mezzo/common/health_check.hpp"

namespace mezzo::executor {

v1::CheckStatusInfo emptyCheckStatus(const v1::CheckInfo& check) {
  v1::CheckStatusInfo status;
  status.set_type(check.type());
  switch (check.type()) {
    case v1::CheckInfo::COMMAND:
      status.mutable_command();
      break;
    case v1::CheckInfo::HTTP:
      status.mutable_http();
      break;
    case v1::CheckInfo::TCP:
      status.mutable_tcp();
      break;
    default:
      break;
  }
  return status;
}

Result<std::unique_ptr<TaskChecker>> TaskChecker::start(boost::asio::io_context& io, ChildWatcher& children,
                                                        const v1::CheckInfo& check, const std::string& taskId,
                                                        const std::string& workingDirectory, OnChange onChange) {
  if (Status valid = validateCheckInfo(check); !valid) return valid;
  auto checker = std::make_unique<TaskChecker>(check, std::move(onChange));
  CheckRunner::Options options;
  options.check = check;
  options.name = v1::CheckInfo::Type_Name(check.type()) + " check of task " + taskId;
  options.workingDirectory = workingDirectory;
  TaskChecker* raw = checker.get();
  // The runner never calls back after stop(), which the checker's destructor calls.
  checker->runner_ = CheckRunner::start(io, children, std::move(options),
                                        [raw](const Result<v1::CheckStatusInfo>& outcome) { raw->report(outcome); });
  return checker;
}

TaskChecker::TaskChecker(const v1::CheckInfo& check, OnChange onChange)
    : onChange_(std::move(onChange)), empty_(emptyCheckStatus(check)), previous_(empty_) {}

TaskChecker::~TaskChecker() { stop(); }

void TaskChecker::stop() {
  if (runner_) runner_->stop();
}

void TaskChecker::report(const Result<v1::CheckStatusInfo>& outcome) {
  const v1::CheckStatusInfo status = outcome ? *outcome : empty_;
  if (google::protobuf::util::MessageDifferencer::Equals(status, previous_)) return;
  previous_ = status;
  onChange_(status);
}

}  // namespace mezzo::executor
