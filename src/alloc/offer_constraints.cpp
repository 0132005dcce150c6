#include "alloc/offer_constraints.hpp"

#include <algorithm>

namespace mezzo::alloc {

bool OfferConstraintMatcher::matches(const ConstraintGroups& groups, const AgentInfoForAllocation& agent) {
  if (groups.empty()) return true;
  return std::any_of(groups.begin(), groups.end(), [&](const std::vector<AttributeConstraint>& group) {
    return std::all_of(group.begin(), group.end(),
                       [&](const AttributeConstraint& constraint) { return holds(constraint, agent); });
  });
}

bool OfferConstraintMatcher::holds(const AttributeConstraint& constraint, const AgentInfoForAllocation& agent) {
  using Predicate = AttributeConstraint::Predicate;
  bool exists = true;
  const std::string* text = &agent.hostname;
  if (constraint.selector == AttributeConstraint::Selector::kAttribute) {
    auto it = agent.attributes.find(constraint.attribute);
    exists = it != agent.attributes.end();
    text = exists ? std::get_if<std::string>(&it->second) : nullptr;
  }
  auto equals = [&] { return text != nullptr && *text == constraint.text; };
  auto matchesPattern = [&] {
    const std::regex* pattern = compiled(constraint.text);
    return text != nullptr && pattern != nullptr && std::regex_match(*text, *pattern);
  };
  switch (constraint.predicate) {
    case Predicate::kExists: return exists;
    case Predicate::kNotExists: return !exists;
    case Predicate::kTextEquals: return equals();
    case Predicate::kTextNotEquals: return !equals();
    case Predicate::kTextMatches: return matchesPattern();
    case Predicate::kTextNotMatches: return !matchesPattern();
  }
  return false;
}

const std::regex* OfferConstraintMatcher::compiled(const std::string& pattern) {
  auto [it, inserted] = patterns_.try_emplace(pattern);
  if (inserted) {
    try {
      it->second.emplace(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      it->second.reset();  // matches nothing
    }
  }
  return it->second ? &*it->second : nullptr;
}

}  // namespace mezzo::alloc
