// Offer bookkeeping of MasterCore: rescinding, removing and rendering offers
// in the shape each framework's capabilities call for.
#include <spdlog/spdlog.h>

#include "master/master_core.hpp"

namespace mezzo::master {

namespace {

// Pre-refinement resource format (`role` + singular `reservation`) for
// frameworks without RESERVATION_REFINEMENT.
void toPreRefinementFormat(v1::Resource* resource) {
  if (resource->reservations_size() == 0) return;
  const v1::Resource::ReservationInfo last = resource->reservations(resource->reservations_size() - 1);
  resource->set_role(last.role());
  if (last.type() == v1::Resource::ReservationInfo::DYNAMIC) {
    v1::Resource::ReservationInfo* reservation = resource->mutable_reservation();
    if (last.has_principal()) reservation->set_principal(last.principal());
    if (last.has_labels()) *reservation->mutable_labels() = last.labels();
  }
  resource->clear_reservations();
}

}  // namespace

v1::Offer MasterCore::renderOffer(const FrameworkRecord& framework, const OfferRecord& offer) const {
  v1::Offer rendered = offer.offer;
  const bool multiRole = framework.hasCapability(v1::FrameworkInfo::Capability::MULTI_ROLE);
  const bool refinement = framework.hasCapability(v1::FrameworkInfo::Capability::RESERVATION_REFINEMENT);
  if (!multiRole) rendered.clear_allocation_info();
  for (v1::Resource& resource : *rendered.mutable_resources()) {
    if (!multiRole) resource.clear_allocation_info();
    if (!refinement) toPreRefinementFormat(&resource);
  }
  return rendered;
}

void MasterCore::removeOffer(const OfferId& id) {
  auto it = offers_.find(id);
  if (it == offers_.end()) return;
  if (auto framework = frameworks_.find(it->second.framework); framework != frameworks_.end()) {
    framework->second->offers.erase(id);
  }
  if (auto agent = agents_.find(it->second.agent); agent != agents_.end()) {
    agent->second->offers.erase(id);
  }
  offers_.erase(it);
}

void MasterCore::rescindOffer(const OfferId& id, bool notifyFramework, TimePoint now,
                              std::optional<Duration> filter) {
  auto it = offers_.find(id);
  if (it == offers_.end()) return;
  OfferRecord offer = it->second;
  removeOffer(id);
  allocator_.recoverResources(offer.framework, offer.agent, offer.resources, filter, now);
  allocationWanted_ = true;
  auto framework = frameworks_.find(offer.framework);
  if (notifyFramework && framework != frameworks_.end()) {
    v1::scheduler::Event event;
    event.set_type(v1::scheduler::Event::RESCIND);
    event.mutable_rescind()->mutable_offer_id()->set_value(id.value());
    sendToFramework(*framework->second, std::move(event));
  }
}

void MasterCore::rescindFrameworkOffers(FrameworkRecord& framework, bool notify, TimePoint now) {
  std::set<OfferId> offers = framework.offers;
  for (const OfferId& id : offers) rescindOffer(id, notify, now);
}

void MasterCore::rescindAgentOffers(AgentRecord& agent, TimePoint now) {
  std::set<OfferId> offers = agent.offers;
  for (const OfferId& id : offers) rescindOffer(id, /*notifyFramework=*/true, now);
}

}  // namespace mezzo::master
