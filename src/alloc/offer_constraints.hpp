// Offer constraints on agent attributes and hostname (Mesos scheduler
// OfferConstraints, 1.11): per role, a framework lists groups of attribute
// constraints; an agent may be offered to it in that role only if every
// constraint of at least one group holds on the agent.
//
// Predicates: exists / not_exists; text_equals, text_not_equals,
// text_matches, text_not_matches (the regular expression must match the whole
// text, ECMAScript syntax; Mesos uses RE2, whose common subset agrees).
// A text predicate looks at TEXT values: on a missing or scalar attribute
// text_equals and text_matches do not hold, and the `not` forms, being their
// exact negations, do. A pattern that does not compile matches nothing (the
// master is meant to reject it at SUBSCRIBE / UPDATE_FRAMEWORK).
//
// Thread-safety: none (the matcher caches compiled patterns).
#pragma once

#include <map>
#include <optional>
#include <regex>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace mezzo::alloc {

// What the allocator knows of an agent for offer constraints.
struct AgentInfoForAllocation {
  std::string hostname;
  std::map<std::string, std::variant<std::string, double>> attributes;  // TEXT or SCALAR values
};

struct AttributeConstraint {
  enum class Selector { kHostname, kAttribute };
  enum class Predicate { kExists, kNotExists, kTextEquals, kTextNotEquals, kTextMatches, kTextNotMatches };

  Selector selector = Selector::kAttribute;
  std::string attribute;  // the attribute's name (kAttribute)
  Predicate predicate = Predicate::kExists;
  std::string text;  // the value (text_equals) or the regular expression (text_matches)
};

// One role's constraints: any group passes when all its constraints hold.
using ConstraintGroups = std::vector<std::vector<AttributeConstraint>>;

class OfferConstraintMatcher {
 public:
  // True if `agent` passes `groups`. An empty list of groups constrains nothing.
  bool matches(const ConstraintGroups& groups, const AgentInfoForAllocation& agent);

 private:
  bool holds(const AttributeConstraint& constraint, const AgentInfoForAllocation& agent);
  // The compiled pattern, or null if it does not compile.
  const std::regex* compiled(const std::string& pattern);

  std::unordered_map<std::string, std::optional<std::regex>> patterns_;
};

}  // namespace mezzo::alloc
