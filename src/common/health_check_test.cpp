#include "mezzo/common/health_check.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace mezzo {
namespace {

v1::HealthCheck httpCheck(uint32_t port) {
  v1::HealthCheck check;
  check.set_type(v1::HealthCheck::HTTP);
  check.mutable_http()->set_port(port);
  return check;
}

TEST(HealthCheckValidationTest, AcceptsEachTypeWithItsField) {
  v1::HealthCheck http = httpCheck(8080);
  http.mutable_http()->set_path("/health");
  http.mutable_http()->set_scheme("http");
  EXPECT_TRUE(validateHealthCheck(http).isOk()) << validateHealthCheck(http).message();

  v1::HealthCheck tcp;
  tcp.set_type(v1::HealthCheck::TCP);
  tcp.mutable_tcp()->set_port(9000);
  EXPECT_TRUE(validateHealthCheck(tcp).isOk());

  v1::HealthCheck command;
  command.set_type(v1::HealthCheck::COMMAND);
  command.mutable_command()->set_value("true");
  EXPECT_TRUE(validateHealthCheck(command).isOk());
}

TEST(HealthCheckValidationTest, RefusesAMissingOrUnknownType) {
  v1::HealthCheck check = httpCheck(80);
  check.clear_type();
  EXPECT_EQ(validateHealthCheck(check).message(), "HealthCheck must specify 'type'");
  check.set_type(v1::HealthCheck::UNKNOWN);
  EXPECT_EQ(validateHealthCheck(check).message(), "'UNKNOWN' is not a valid health check type");
}

TEST(HealthCheckValidationTest, RefusesATypeWithoutItsField) {
  v1::HealthCheck check;
  check.set_type(v1::HealthCheck::HTTP);
  EXPECT_EQ(validateHealthCheck(check).message(), "Expecting 'http' to be set for HTTP health check");
  check.set_type(v1::HealthCheck::TCP);
  EXPECT_EQ(validateHealthCheck(check).message(), "Expecting 'tcp' to be set for TCP health check");
  check.set_type(v1::HealthCheck::COMMAND);
  EXPECT_EQ(validateHealthCheck(check).message(), "Expecting 'command' to be set for COMMAND health check");
  check.mutable_command();  // present but without a value
  EXPECT_EQ(validateHealthCheck(check).message(), "Command health check must contain 'shell command'");
  check.mutable_command()->set_shell(false);
  EXPECT_EQ(validateHealthCheck(check).message(), "Command health check must contain 'executable path'");
}

TEST(HealthCheckValidationTest, RefusesBadHttpSchemesAndPaths) {
  v1::HealthCheck check = httpCheck(80);
  check.mutable_http()->set_scheme("ftp");
  EXPECT_EQ(validateHealthCheck(check).message(), "Unsupported HTTP health check scheme: 'ftp'");
  check.mutable_http()->set_scheme("https");
  EXPECT_EQ(validateHealthCheck(check).code(), StatusCode::kInvalidArgument);
  check.mutable_http()->clear_scheme();
  check.mutable_http()->set_path("health");
  EXPECT_EQ(validateHealthCheck(check).message(), "The path 'health' of HTTP health check must start with '/'");
}

TEST(HealthCheckValidationTest, RefusesNegativeOrNonFiniteDurations) {
  v1::HealthCheck check = httpCheck(80);
  check.set_interval_seconds(-1);
  EXPECT_EQ(validateHealthCheck(check).message(), "Expecting 'interval_seconds' to be non-negative");
  check.set_interval_seconds(0);
  EXPECT_TRUE(validateHealthCheck(check).isOk());
  check.set_delay_seconds(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(validateHealthCheck(check).message(), "Expecting 'delay_seconds' to be finite");
  check.set_delay_seconds(0);
  check.set_timeout_seconds(std::numeric_limits<double>::infinity());
  EXPECT_EQ(validateHealthCheck(check).message(), "Expecting 'timeout_seconds' to be finite");
  check.set_timeout_seconds(0);
  check.set_grace_period_seconds(-0.5);
  EXPECT_EQ(validateHealthCheck(check).message(), "Expecting 'grace_period_seconds' to be non-negative");
}

TEST(HealthCheckValidationTest, DefaultsAreMesoss) {
  const v1::HealthCheck check;
  EXPECT_EQ(check.delay_seconds(), 15.0);
  EXPECT_EQ(check.interval_seconds(), 10.0);
  EXPECT_EQ(check.timeout_seconds(), 20.0);
  EXPECT_EQ(check.consecutive_failures(), 3u);
  EXPECT_EQ(check.grace_period_seconds(), 10.0);
  EXPECT_EQ(check.http().protocol(), v1::NetworkInfo::IPv4);
}

TEST(CheckInfoValidationTest, FollowsMesossRules) {
  v1::CheckInfo check;
  EXPECT_EQ(validateCheckInfo(check).message(), "CheckInfo must specify 'type'");
  check.set_type(v1::CheckInfo::UNKNOWN);
  EXPECT_EQ(validateCheckInfo(check).message(), "'UNKNOWN' is not a valid check type");
  check.set_type(v1::CheckInfo::HTTP);
  EXPECT_EQ(validateCheckInfo(check).message(), "Expecting 'http' to be set for HTTP check");
  check.mutable_http()->set_port(80);
  check.mutable_http()->set_path("x");
  EXPECT_EQ(validateCheckInfo(check).message(), "The path 'x' of HTTP check must start with '/'");
  check.mutable_http()->set_path("/x");
  EXPECT_TRUE(validateCheckInfo(check).isOk());
  check.set_type(v1::CheckInfo::TCP);
  EXPECT_EQ(validateCheckInfo(check).message(), "Expecting 'tcp' to be set for TCP check");
  check.set_type(v1::CheckInfo::COMMAND);
  EXPECT_EQ(validateCheckInfo(check).message(), "Expecting 'command' to be set for COMMAND check");
  check.mutable_command()->mutable_command();
  EXPECT_EQ(validateCheckInfo(check).message(), "Command check must contain 'shell command'");
  check.mutable_command()->mutable_command()->set_value("true");
  EXPECT_TRUE(validateCheckInfo(check).isOk());
  check.set_timeout_seconds(-2);
  EXPECT_EQ(validateCheckInfo(check).message(), "Expecting 'timeout_seconds' to be non-negative");
}

}  // namespace
}  // namespace mezzo
