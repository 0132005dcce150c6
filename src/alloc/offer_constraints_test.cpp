// Offer constraints on agent attributes and hostname: each predicate, and
// the any-group-of-all-constraints rule.
#include "alloc/offer_constraints.hpp"

#include <gtest/gtest.h>

namespace mezzo::alloc {
namespace {

using Predicate = AttributeConstraint::Predicate;
using Selector = AttributeConstraint::Selector;

AttributeConstraint on(const std::string& attribute, Predicate predicate, const std::string& text = "") {
  return AttributeConstraint{Selector::kAttribute, attribute, predicate, text};
}

AttributeConstraint onHostname(Predicate predicate, const std::string& text) {
  return AttributeConstraint{Selector::kHostname, "", predicate, text};
}

const AgentInfoForAllocation kAgent{"node-17.dc1", {{"rack", std::string("r1")}, {"cores", 16.0}}};

bool passes(const ConstraintGroups& groups) {
  OfferConstraintMatcher matcher;
  return matcher.matches(groups, kAgent);
}

TEST(OfferConstraints, Predicates) {
  EXPECT_TRUE(passes({{on("rack", Predicate::kExists)}}));
  EXPECT_TRUE(passes({{on("cores", Predicate::kExists)}}));
  EXPECT_FALSE(passes({{on("gpu", Predicate::kExists)}}));
  EXPECT_TRUE(passes({{on("gpu", Predicate::kNotExists)}}));
  EXPECT_FALSE(passes({{on("rack", Predicate::kNotExists)}}));
  EXPECT_TRUE(passes({{on("rack", Predicate::kTextEquals, "r1")}}));
  EXPECT_FALSE(passes({{on("rack", Predicate::kTextEquals, "r2")}}));
  EXPECT_TRUE(passes({{on("rack", Predicate::kTextNotEquals, "r2")}}));
  EXPECT_FALSE(passes({{on("rack", Predicate::kTextNotEquals, "r1")}}));
  EXPECT_TRUE(passes({{on("rack", Predicate::kTextMatches, "r[0-9]+")}}));
  EXPECT_FALSE(passes({{on("rack", Predicate::kTextMatches, "r")}}));  // the whole text must match
  EXPECT_TRUE(passes({{on("rack", Predicate::kTextNotMatches, "x.*")}}));
  // Scalar and missing attributes have no text.
  EXPECT_FALSE(passes({{on("cores", Predicate::kTextEquals, "16")}}));
  EXPECT_TRUE(passes({{on("cores", Predicate::kTextNotEquals, "16")}}));
  EXPECT_FALSE(passes({{on("gpu", Predicate::kTextMatches, ".*")}}));
  // A pattern that does not compile matches nothing.
  EXPECT_FALSE(passes({{on("rack", Predicate::kTextMatches, "r[")}}));
  EXPECT_TRUE(passes({{onHostname(Predicate::kTextMatches, "node-[0-9]+\\.dc1")}}));
  EXPECT_FALSE(passes({{onHostname(Predicate::kTextEquals, "node-18.dc1")}}));
}

TEST(OfferConstraints, AnyGroupOfAllConstraints) {
  auto rackR1 = on("rack", Predicate::kTextEquals, "r1");
  auto hasGpu = on("gpu", Predicate::kExists);
  EXPECT_FALSE(passes({{rackR1, hasGpu}}));    // one group: both must hold
  EXPECT_TRUE(passes({{hasGpu}, {rackR1}}));   // two groups: one is enough
  EXPECT_FALSE(passes({{hasGpu}, {on("rack", Predicate::kNotExists)}}));
  EXPECT_TRUE(passes({}));                     // no groups: unconstrained
}

}  // namespace
}  // namespace mezzo::alloc
