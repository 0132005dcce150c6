#include <gtest/gtest.h>

#include "executor/health_checker.hpp"
#include "executor/task_checker.hpp"

namespace mezzo::executor {
namespace {

v1::CheckStatusInfo httpStatus(uint32_t code) {
  v1::CheckStatusInfo status;
  status.set_type(v1::CheckInfo::HTTP);
  status.mutable_http()->set_status_code(code);
  return status;
}

TEST(HealthOfTest, FollowsMesossInterpretation) {
  EXPECT_TRUE(healthOf(httpStatus(200)).isOk());
  EXPECT_TRUE(healthOf(httpStatus(302)).isOk());
  EXPECT_EQ(healthOf(httpStatus(404)).message(), "Unexpected HTTP response code: 404");
  EXPECT_FALSE(healthOf(httpStatus(199)).isOk());

  v1::CheckStatusInfo command;
  command.set_type(v1::CheckInfo::COMMAND);
  command.mutable_command()->set_exit_code(0);
  EXPECT_TRUE(healthOf(command).isOk());
  command.mutable_command()->set_exit_code(2);
  EXPECT_EQ(healthOf(command).message(), "Command exited with status 2");

  v1::CheckStatusInfo tcp;
  tcp.set_type(v1::CheckInfo::TCP);
  tcp.mutable_tcp()->set_succeeded(false);
  EXPECT_FALSE(healthOf(tcp).isOk());
  tcp.mutable_tcp()->set_succeeded(true);
  EXPECT_TRUE(healthOf(tcp).isOk());

  EXPECT_EQ(healthOf(Status::unavailable("timed out")).message(), "timed out");
}

TEST(ToCheckInfoTest, KeepsWhatTheProbeNeedsAndTheTiming) {
  v1::HealthCheck health;
  health.set_type(v1::HealthCheck::HTTP);
  health.mutable_http()->set_port(8080);
  health.mutable_http()->set_path("/ping");
  health.set_delay_seconds(1);
  health.set_interval_seconds(2);
  health.set_timeout_seconds(3);
  const v1::CheckInfo check = toCheckInfo(health);
  EXPECT_EQ(check.type(), v1::CheckInfo::HTTP);
  EXPECT_EQ(check.http().port(), 8080u);
  EXPECT_EQ(check.http().path(), "/ping");
  EXPECT_EQ(check.delay_seconds(), 1);
  EXPECT_EQ(check.interval_seconds(), 2);
  EXPECT_EQ(check.timeout_seconds(), 3);

  health.set_type(v1::HealthCheck::COMMAND);
  health.mutable_command()->set_value("true");
  EXPECT_EQ(toCheckInfo(health).command().command().value(), "true");
}

TEST(EmptyCheckStatusTest, HasTheTypeAndAnEmptyFieldOfIt) {
  v1::CheckInfo check;
  check.set_type(v1::CheckInfo::TCP);
  const v1::CheckStatusInfo status = emptyCheckStatus(check);
  EXPECT_EQ(status.type(), v1::CheckInfo::TCP);
  EXPECT_TRUE(status.has_tcp());
  EXPECT_FALSE(status.tcp().has_succeeded());
  EXPECT_FALSE(status.has_http());
}

}  // namespace
}  // namespace mezzo::executor
