#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <fmt/ranges.h>

#include "iotad/config/alert_config.h"
#include "iotad/config/component.h"

namespace iotad::config {

/// Every component kind iotad knows. Adding a kind (alerts' `[[alert.sink]]`, a `[[source.mqtt]]`)
/// means one line here; there is no static self-registration.
Status RegisterComponents(ComponentRegistry& registry) {
  IOTAD_TRY(registry.Register(DetectRuleKind()));
  IOTAD_TRY(registry.Register(AlertRuleKind()));
  IOTAD_TRY(registry.Register(AlertSinkKind()));
  return Status::Ok();
}

const ComponentRegistry& ComponentRegistry::Default() {
  static const ComponentRegistry registry = [] {
    ComponentRegistry r;
    const Status st = RegisterComponents(r);
    if (!st.ok()) {
      // A registration mistake is a bug in this program, never the user's input.
      std::fprintf(stderr, "iotad: internal error: %s\n", st.message().c_str());
      std::abort();
    }
    return r;
  }();
  return registry;
}

Status ComponentRegistry::Register(ComponentKind kind) {
  const size_t dot = kind.section.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == kind.section.size() ||
      kind.section.find('.', dot + 1) != std::string::npos) {
    return Error(Errc::kInternal, "component kind '{}' must be named group.leaf, e.g. alert.sink", kind.section);
  }
  if (Find(kind.section) != nullptr) {
    return Error(Errc::kInternal, "component kind '{}' is registered twice", kind.section);
  }
  if (kind.types.empty() || (!kind.typed && kind.types.size() != 1)) {
    return Error(Errc::kInternal, "component kind '{}' must have {} type", kind.section,
                 kind.typed ? "at least one" : "exactly one");
  }
  for (size_t i = 0; i < kind.types.size(); ++i) {
    const ComponentType& t = kind.types[i];
    if (!t.make || (kind.typed && t.name.empty())) {
      return Error(Errc::kInternal, "component kind '{}' has a type without a name or factory", kind.section);
    }
    for (size_t j = 0; j < i; ++j) {
      if (kind.types[j].name == t.name) {
        return Error(Errc::kInternal, "component kind '{}' has type '{}' twice", kind.section, t.name);
      }
    }
    for (const OptionDoc& o : t.options) {
      if (o.name == "name" || o.name == "type") {
        return Error(Errc::kInternal, "component kind '{}' declares '{}', which every component has", kind.section,
                     o.name);
      }
    }
  }
  kinds_.push_back(std::move(kind));
  return Status::Ok();
}

const ComponentKind* ComponentRegistry::Find(std::string_view section) const {
  for (const ComponentKind& k : kinds_) {
    if (k.section == section) return &k;
  }
  return nullptr;
}

ComponentKind UntypedKind(std::string section, std::string doc, ComponentType type) {
  ComponentKind kind;
  kind.section = std::move(section);
  kind.doc = std::move(doc);
  kind.types.push_back(std::move(type));
  return kind;
}

ComponentKind TypedKind(std::string section, std::string doc, std::vector<ComponentType> types,
                        bool name_required) {
  ComponentKind kind;
  kind.section = std::move(section);
  kind.doc = std::move(doc);
  kind.typed = true;
  kind.name_required = name_required;
  kind.types = std::move(types);
  return kind;
}

namespace internal {

Status UnknownComponentKey(const std::string& key, const ComponentContext& ctx, const std::vector<OptionDoc>& known) {
  std::vector<std::string> names = {"name"};
  if (!ctx.type.empty()) names.push_back("type");
  for (const OptionDoc& o : known) names.push_back(o.name);
  return Error(Errc::kInvalidArgument, "config: unknown key '{}' (known{}: {})", key,
               ctx.type.empty() ? "" : fmt::format(" for type \"{}\"", ctx.type), fmt::join(names, ", "));
}

Status MissingComponentKey(const std::string& key, const ComponentContext& ctx) {
  return Error(Errc::kInvalidArgument, "config: '{}' is required{}", key,
               ctx.type.empty() ? "" : fmt::format(" for type \"{}\"", ctx.type));
}

}  // namespace internal

const std::vector<Component>& Components::Of(std::string_view kind) const {
  static const std::vector<Component> kNone;
  const auto it = by_kind_.find(kind);
  return it == by_kind_.end() ? kNone : it->second;
}

const Component* Components::Find(std::string_view kind, std::string_view name) const {
  for (const Component& c : Of(kind)) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void Components::Add(Component component) {
  const std::string kind = component.kind;
  by_kind_[kind].push_back(std::move(component));
}

}  // namespace iotad::config
