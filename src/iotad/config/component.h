#pragma once
// Components: repeated config sections (`[[detect.rule]]`, later `[[alert.sink]]`,
// `[[source.mqtt]]`) declared like the flat options: each kind has a section name, an optional
// `type` key choosing one of its types, and per type an option table (key, type, default, doc,
// setter) plus a validating factory that builds a typed options struct. The same tables parse,
// reject unknown keys and print `iotad config example`. Kinds are registered explicitly, in one
// place: RegisterComponents() in components.cpp.
#include <any>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "iotad/core/result.h"

namespace iotad::config {

/// One TOML value as an option's setter sees it; toml++ stays inside config.cpp. Valid only
/// while the file is being parsed (setters copy what they keep).
class Node {
 public:
  explicit Node(const void* toml_node) : node_(toml_node) {}
  const void* raw() const { return node_; }

 private:
  const void* node_;
};

// Readers shared by every option (flat or component): each checks the TOML type and the range
// and fails with one sentence naming `key`, e.g. "config: 'gold.min_points' must be ...".
// Callers add the file name.

/// A string; `allowed` empty: any non-empty string, else one of `allowed`.
Result<std::string> ReadString(const Node& n, const std::string& key, const std::vector<std::string>& allowed = {});
/// An integer in [min_value, max_value].
Result<int64_t> ReadInt(const Node& n, const std::string& key, int64_t min_value, int64_t max_value);
/// A finite number in (min, max] when `above_min`, else [min, max] (integers are taken too).
Result<double> ReadNumber(const Node& n, const std::string& key, double min_value, double max_value, bool above_min);
/// Any finite number (nan and inf refused).
Result<double> ReadFiniteNumber(const Node& n, const std::string& key);
Result<bool> ReadBool(const Node& n, const std::string& key);
/// A list of strings, each in `allowed` unless it is empty; at least one when `non_empty`.
Result<std::vector<std::string>> ReadStringList(const Node& n, const std::string& key,
                                                const std::vector<std::string>& allowed = {},
                                                bool non_empty = false);
/// A duration such as "15m" or "2h", above zero, in microseconds.
Result<int64_t> ReadDurationUs(const Node& n, const std::string& key);
/// An inline table's entries (in key order); `expected` describes it for the message.
Result<std::vector<std::pair<std::string, Node>>> ReadTable(const Node& n, const std::string& key,
                                                           const std::string& expected);

/// One option of a component type: how `T` gets the value of `key` (e.g. "alert.sink[0].url").
template <typename T>
using FieldSetter = std::function<Status(T&, const Node&, const std::string& key)>;

/// One row of a component type's option table; `T` is the type's options struct.
template <typename T>
struct Option {
  std::string name;
  std::string type;          // for docs: string, int, number, bool, list, duration, table
  /// As `config example` shows it: the default (which must equal T{}'s), or an example value
  /// when `required`; empty when the option is unset by default (not shown as a key line).
  std::string default_toml;
  std::string doc;
  FieldSetter<T> set;
  bool required = false;
};

// Setters for the usual field types, with the same checks and messages as the flat options.
template <typename T>
FieldSetter<T> SetString(std::string T::*field, std::vector<std::string> allowed = {}) {
  return [=](T& t, const Node& n, const std::string& key) -> Status {
    IOTAD_ASSIGN_OR_RETURN(t.*field, ReadString(n, key, allowed));
    return Status::Ok();
  };
}
template <typename T>
FieldSetter<T> SetInt(int64_t T::*field, int64_t min_value, int64_t max_value) {
  return [=](T& t, const Node& n, const std::string& key) -> Status {
    IOTAD_ASSIGN_OR_RETURN(t.*field, ReadInt(n, key, min_value, max_value));
    return Status::Ok();
  };
}
/// For `double` or `std::optional<double>` fields.
template <typename T, typename Field>
FieldSetter<T> SetNumber(Field T::*field, double min_value, double max_value, bool above_min = false) {
  return [=](T& t, const Node& n, const std::string& key) -> Status {
    IOTAD_ASSIGN_OR_RETURN(t.*field, ReadNumber(n, key, min_value, max_value, above_min));
    return Status::Ok();
  };
}
/// Any finite number, for `double` or `std::optional<double>` fields.
template <typename T, typename Field>
FieldSetter<T> SetFiniteNumber(Field T::*field) {
  return [=](T& t, const Node& n, const std::string& key) -> Status {
    IOTAD_ASSIGN_OR_RETURN(t.*field, ReadFiniteNumber(n, key));
    return Status::Ok();
  };
}
template <typename T>
FieldSetter<T> SetBool(bool T::*field) {
  return [=](T& t, const Node& n, const std::string& key) -> Status {
    IOTAD_ASSIGN_OR_RETURN(t.*field, ReadBool(n, key));
    return Status::Ok();
  };
}
template <typename T>
FieldSetter<T> SetList(std::vector<std::string> T::*field, std::vector<std::string> allowed = {},
                       bool non_empty = false) {
  return [=](T& t, const Node& n, const std::string& key) -> Status {
    IOTAD_ASSIGN_OR_RETURN(t.*field, ReadStringList(n, key, allowed, non_empty));
    return Status::Ok();
  };
}
/// Microseconds, for `int64_t` or `std::optional<int64_t>` fields.
template <typename T, typename Field>
FieldSetter<T> SetDuration(Field T::*field) {
  return [=](T& t, const Node& n, const std::string& key) -> Status {
    IOTAD_ASSIGN_OR_RETURN(t.*field, ReadDurationUs(n, key));
    return Status::Ok();
  };
}

/// Where one component table sits, for a factory's messages and checks.
struct ComponentContext {
  std::string kind;  // "alert.sink"
  std::string type;  // "webhook"; "" for a kind without a `type` key
  std::string name;  // its `name`, or the default "alert.sink[2]"
  std::string key;   // "alert.sink[2]": option keys are key + "." + option
  int index = 0;     // among the kind's tables, in file order
};

/// The documentation of one option (what `config example` prints).
struct OptionDoc {
  std::string name, type, default_toml, doc;
  bool required = false;
};

/// The keys of one table (besides `name` and `type`), in key order.
using ComponentKeys = std::vector<std::pair<std::string, Node>>;

/// One `type` of a kind: its option table (for docs) and its factory, which fills the options
/// struct from the keys (unknown keys and missing required ones are errors), validates it, and
/// returns it type-erased (read it back with Component::As<T>()).
struct ComponentType {
  std::string name;  // the `type` value; "" in a kind without a `type` key
  std::string doc;
  std::vector<OptionDoc> options;
  std::function<Result<std::any>(const ComponentKeys&, const ComponentContext&)> make;
};

namespace internal {
Status UnknownComponentKey(const std::string& key, const ComponentContext& ctx, const std::vector<OptionDoc>& known);
Status MissingComponentKey(const std::string& key, const ComponentContext& ctx);
}  // namespace internal

/// A type whose options struct `T` (default-constructed with the documented defaults) is filled
/// by the `options` table, then checked as a whole by `validate` (cross-field rules such as
/// min <= max; it may also fill derived fields).
template <typename T>
ComponentType MakeComponentType(std::string type_name, std::string doc, std::vector<Option<T>> options,
                                std::function<Status(T&, const ComponentContext&)> validate = nullptr) {
  ComponentType type;
  type.name = std::move(type_name);
  type.doc = std::move(doc);
  for (const Option<T>& o : options) type.options.push_back({o.name, o.type, o.default_toml, o.doc, o.required});
  auto table = std::make_shared<const std::vector<Option<T>>>(std::move(options));
  auto docs = std::make_shared<const std::vector<OptionDoc>>(type.options);
  type.make = [table, docs, validate = std::move(validate)](const ComponentKeys& keys,
                                                            const ComponentContext& ctx) -> Result<std::any> {
    // Built in place inside the std::any (GCC 12 warns about a local aggregate with a base).
    std::any out(std::in_place_type<T>);
    T& value = *std::any_cast<T>(&out);
    std::vector<bool> seen(table->size(), false);
    for (const auto& [name, node] : keys) {
      const std::string key = ctx.key + "." + name;
      size_t i = 0;
      while (i < table->size() && (*table)[i].name != name) ++i;
      if (i == table->size()) return internal::UnknownComponentKey(key, ctx, *docs);
      IOTAD_TRY((*table)[i].set(value, node, key));
      seen[i] = true;
    }
    for (size_t i = 0; i < table->size(); ++i) {
      if ((*table)[i].required && !seen[i]) return internal::MissingComponentKey(ctx.key + "." + (*table)[i].name, ctx);
    }
    if (validate) IOTAD_TRY(validate(value, ctx));
    return out;
  };
  return type;
}

/// A kind of component: the tables written `[[<section>]]` (section is "group.leaf", e.g.
/// "alert.sink"). Every table may have a `name`, unique within the kind; a kind with types
/// also requires `type`, choosing which type's options and factory apply.
struct ComponentKind {
  std::string section;
  std::string doc;
  bool typed = false;          // a `type` key chooses one of `types`
  bool name_required = false;  // else an unnamed table is called "<section>[<index>]"
  std::vector<ComponentType> types;  // exactly one (named "") when !typed
  std::string example;         // optional commented example shown after the generated block
};

/// A kind without a `type` key: every table has `type`'s options.
ComponentKind UntypedKind(std::string section, std::string doc, ComponentType type);
/// A kind whose tables choose one of `types` with `type = "..."`.
ComponentKind TypedKind(std::string section, std::string doc, std::vector<ComponentType> types,
                        bool name_required = true);

/// The component kinds a parse knows. Built by RegisterComponents() (the product's) plus, in
/// tests, test-only kinds. Immutable once parsing uses it; read concurrently without locks.
class ComponentRegistry {
 public:
  /// Fails on a section that is not "group.leaf", a duplicate section or type, or a kind
  /// without types (registration mistakes, said as one sentence).
  Status Register(ComponentKind kind);
  const ComponentKind* Find(std::string_view section) const;
  const std::vector<ComponentKind>& kinds() const { return kinds_; }

  /// RegisterComponents() into a registry built once (what ParseConfig and `config example`
  /// use by default).
  static const ComponentRegistry& Default();

 private:
  std::vector<ComponentKind> kinds_;
};

/// Every component kind iotad knows, registered in this one place (components.cpp).
Status RegisterComponents(ComponentRegistry& registry);

/// The `[[detect.rule]]` kind (config.cpp; options struct DetectRule in config.h).
ComponentKind DetectRuleKind();

/// One parsed component table.
struct Component {
  std::string kind;  // "alert.sink"
  std::string type;  // "" for a kind without types
  std::string name;  // unique within the kind
  int index = 0;     // among its kind's tables, in file order
  std::any options;  // the type's options struct

  /// The options when they are a `T`, else nullptr.
  template <typename T>
  const T* As() const {
    return std::any_cast<T>(&options);
  }
};

/// The parsed components of a config, per kind in file order.
class Components {
 public:
  /// The tables of `kind` ("detect.rule"), in file order; empty when there are none.
  const std::vector<Component>& Of(std::string_view kind) const;
  /// The options of the tables of `kind` that are a `T` (one type of a typed kind), in order.
  template <typename T>
  std::vector<const T*> OptionsOf(std::string_view kind) const {
    std::vector<const T*> out;
    for (const Component& c : Of(kind)) {
      if (const T* t = c.As<T>()) out.push_back(t);
    }
    return out;
  }
  /// Finds by name within a kind; nullptr when absent.
  const Component* Find(std::string_view kind, std::string_view name) const;
  void Add(Component component);

 private:
  std::map<std::string, std::vector<Component>, std::less<>> by_kind_;
};

}  // namespace iotad::config
