#include "master/allocation_specs.hpp"

#include <cmath>
#include <regex>

namespace mezzo::master {

namespace {

using Constraint = alloc::AttributeConstraint;
using v1::scheduler::AttributeConstraint;

Result<Constraint> toConstraint(const std::string& role, const AttributeConstraint& wire) {
  Constraint constraint;
  const auto& selector = wire.selector();
  if (selector.has_attribute_name()) {
    constraint.selector = Constraint::Selector::kAttribute;
    constraint.attribute = selector.attribute_name();
  } else if (selector.has_pseudoattribute_type() &&
             selector.pseudoattribute_type() == AttributeConstraint::Selector::HOSTNAME) {
    constraint.selector = Constraint::Selector::kHostname;
  } else {
    return Status::invalidArgument("Offer constraint of role '" + role +
                                   "': only HOSTNAME and attribute_name selectors are supported");
  }
  const auto& predicate = wire.predicate();
  std::string pattern;
  switch (predicate.predicate_case()) {
    case AttributeConstraint::Predicate::kExists: constraint.predicate = Constraint::Predicate::kExists; break;
    case AttributeConstraint::Predicate::kNotExists: constraint.predicate = Constraint::Predicate::kNotExists; break;
    case AttributeConstraint::Predicate::kTextEquals:
      constraint.predicate = Constraint::Predicate::kTextEquals;
      constraint.text = predicate.text_equals().value();
      break;
    case AttributeConstraint::Predicate::kTextNotEquals:
      constraint.predicate = Constraint::Predicate::kTextNotEquals;
      constraint.text = predicate.text_not_equals().value();
      break;
    case AttributeConstraint::Predicate::kTextMatches:
      constraint.predicate = Constraint::Predicate::kTextMatches;
      constraint.text = pattern = predicate.text_matches().regex();
      break;
    case AttributeConstraint::Predicate::kTextNotMatches:
      constraint.predicate = Constraint::Predicate::kTextNotMatches;
      constraint.text = pattern = predicate.text_not_matches().regex();
      break;
    case AttributeConstraint::Predicate::PREDICATE_NOT_SET:
      return Status::invalidArgument("Offer constraint of role '" + role + "' has no predicate");
  }
  if (!pattern.empty()) {
    try {
      std::regex compiled(pattern);
    } catch (const std::regex_error& error) {
      return Status::invalidArgument("Offer constraint of role '" + role + "': invalid regex '" + pattern +
                                     "': " + error.what());
    }
  }
  return constraint;
}

}  // namespace

Result<alloc::FrameworkSpec> frameworkSpecFor(const v1::FrameworkInfo& info, const std::set<std::string>& roles,
                                              const std::set<std::string>& suppressed,
                                              const v1::scheduler::OfferConstraints* constraints) {
  alloc::FrameworkSpec spec{roles, suppressed, false};
  for (const auto& capability : info.capabilities()) {
    if (capability.type() == v1::FrameworkInfo::Capability::REVOCABLE_RESOURCES) spec.revocableCapable = true;
    if (capability.type() == v1::FrameworkInfo::Capability::GPU_RESOURCES) spec.gpuCapable = true;
  }
  for (const auto& [role, filters] : info.offer_filters()) {
    if (!roles.contains(role)) {
      return Status::invalidArgument("'FrameworkInfo.offer_filters' names role '" + role +
                                     "', which is not one of the framework's roles");
    }
    if (!filters.has_min_allocatable_resources()) continue;
    std::vector<alloc::Quantities> groups;
    for (const v1::ResourceQuantities& quantities : filters.min_allocatable_resources().quantities()) {
      alloc::Quantities group;
      for (const auto& [name, scalar] : quantities.quantities()) {
        if (!std::isfinite(scalar.value()) || scalar.value() < 0) {
          return Status::invalidArgument("'offer_filters' of role '" + role + "': quantity of '" + name +
                                         "' must be a non-negative number");
        }
        group[name] = scalar.value();
      }
      groups.push_back(std::move(group));
    }
    spec.minAllocatableByRole[role] = std::move(groups);
  }
  if (constraints != nullptr) {
    for (const auto& [role, roleConstraints] : constraints->role_constraints()) {
      if (!roles.contains(role)) {
        return Status::invalidArgument("'offer_constraints' names role '" + role +
                                       "', which is not one of the framework's roles");
      }
      alloc::ConstraintGroups groups;
      for (const auto& group : roleConstraints.groups()) {
        if (group.attribute_constraints().empty()) {
          return Status::invalidArgument("'offer_constraints' of role '" + role + "' has an empty group");
        }
        std::vector<Constraint> all;
        for (const AttributeConstraint& wire : group.attribute_constraints()) {
          auto constraint = toConstraint(role, wire);
          if (!constraint) return constraint.status();
          all.push_back(std::move(*constraint));
        }
        groups.push_back(std::move(all));
      }
      spec.offerConstraintsByRole[role] = std::move(groups);
    }
  }
  return spec;
}

alloc::AgentInfoForAllocation agentInfoForAllocation(const v1::AgentInfo& info) {
  alloc::AgentInfoForAllocation out;
  out.hostname = info.hostname();
  for (const v1::Attribute& attribute : info.attributes()) {
    if (attribute.type() == v1::Value::TEXT) {
      out.attributes[attribute.name()] = attribute.text().value();
    } else if (attribute.type() == v1::Value::SCALAR) {
      out.attributes[attribute.name()] = attribute.scalar().value();
    }
  }
  return out;
}

}  // namespace mezzo::master
