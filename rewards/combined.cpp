// Weighted combination of rewards and the registry of named rewards (rewards/combined.h,
// rewards/registry.h).
#include "rewards/combined.h"

#include <cmath>

#include "core/error.h"
#include "core/strings.h"
#include "rewards/registry.h"

namespace r1::rewards {

bool reserved_name(std::string_view name) {
  return name == "reward" || name == "info" || name == "id" || name == "unscored";
}

CombinedReward::CombinedReward(std::vector<Component> components) : components_(std::move(components)) {
  if (components_.empty()) throw Error("rewards: expected at least one reward, found none");
  for (size_t i = 0; i < components_.size(); ++i) {
    const Component& c = components_[i];
    R1_CHECK(c.reward != nullptr, "component ", c.name, " has no reward");
    if (reserved_name(c.name))
      throw Error(str_cat("rewards: '", c.name, "' is reserved for the output's own field; give the reward another name"));
    if (!std::isfinite(c.weight))
      throw Error(str_cat("rewards: ", c.name, ": weight: expected a finite number, found ", c.weight));
    for (size_t j = 0; j < i; ++j) {
      if (components_[j].name == c.name)
        throw Error(str_cat("rewards: '", c.name, "' listed twice (entries ", j, " and ", i,
                            "); give one of them another name"));
    }
  }
}

std::vector<CombinedResult> CombinedReward::score(std::span<const Sample> batch) const {
  std::vector<CombinedResult> out(batch.size());
  for (CombinedResult& r : out) r.parts.reserve(components_.size());
  for (const Component& c : components_) {
    std::vector<RewardResult> parts = c.reward->score(batch);
    R1_CHECK(parts.size() == batch.size(), c.name, " returned ", parts.size(), " results for ", batch.size(), " samples");
    for (size_t i = 0; i < batch.size(); ++i) out[i].parts.push_back(std::move(parts[i]));
  }
  for (CombinedResult& r : out) {
    double total = 0.0;
    for (size_t k = 0; k < components_.size(); ++k) {
      const RewardResult& part = r.parts[k];
      if (part.scored()) {
        total += components_[k].weight * part.value;
      } else {
        r.unscored.push_back(str_cat(components_[k].name, ": ", part.unscored->reason, " (",
                                     part.unscored->detail, ")"));
      }
    }
    if (r.unscored.empty()) r.total = total;
  }
  return out;
}

void CombinedReward::count(std::span<const CombinedResult> results, RewardStats& stats) const {
  for (const CombinedResult& r : results) {
    for (size_t k = 0; k < components_.size(); ++k) stats.add(components_[k].name, r.parts[k]);
    // The total is unscored for the first unscored part's reason (enough to count it).
    if (r.total) {
      stats.add("reward", RewardResult::scored_value(*r.total, {}));
    } else {
      for (const RewardResult& part : r.parts) {
        if (!part.scored()) {
          RewardResult u;
          u.unscored = part.unscored;
          stats.add("reward", u);
          break;
        }
      }
    }
  }
}

void Registry::add(std::string name, std::string doc, RewardFactory factory) {
  R1_CHECK(!contains(name), "reward '", name, "' registered twice");
  entries_.push_back(Entry{std::move(name), std::move(doc), std::move(factory)});
}

bool Registry::contains(std::string_view name) const {
  for (const Entry& e : entries_)
    if (e.name == name) return true;
  return false;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) out.push_back(e.name);
  return out;
}

std::string Registry::describe() const {
  std::string out;
  for (const Entry& e : entries_) out += str_cat(e.name, "  ", e.doc, "\n");
  return out;
}

std::unique_ptr<Reward> Registry::create(std::string_view name, const recipe::Node& options,
                                         const std::string& key_path, std::string_view where) const {
  for (const Entry& e : entries_)
    if (e.name == name) return e.factory(options, key_path);
  const std::vector<std::string> valid = names();
  std::string message = str_cat(where, ": unknown reward '", name, "'");
  if (const auto near = core::nearest(name, valid)) message += str_cat(" (did you mean '", *near, "'?)");
  message += "; valid names:";
  for (size_t i = 0; i < valid.size(); ++i) message += str_cat(i ? ", " : " ", valid[i]);
  throw Error(message);
}

}  // namespace r1::rewards
