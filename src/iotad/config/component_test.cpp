#include "iotad/config/component.h"

#include <gtest/gtest.h>

#include "iotad/config/config.h"

namespace iotad::config {
namespace {

// A test-only component kind, `[[test.widget]]`, with two types: what issue 9's
// `[[alert.sink]]` (type = "webhook", ...) will look like.
/// Keys every type of the kind has (as sinks will share retry and timeout settings): a base
/// struct and one table of rows that each type's table starts with.
struct WidgetCommon {
  std::string label = "none";
  int64_t weight_g = 100;
};

template <typename T>
std::vector<Option<T>> CommonOptions(std::vector<Option<T>> own) {
  std::vector<Option<T>> rows = {
      {"label", "string", "\"none\"", "Shown on the widget.", SetString(&T::label)},
      {"weight_g", "int", "100", "Weight in grams (1 to 10000).", SetInt(&T::weight_g, 1, 10'000)},
  };
  for (auto& row : own) rows.push_back(std::move(row));
  return rows;
}

struct RoundOptions : WidgetCommon {
  double radius = 1.0;
  double max_radius = 10.0;
  std::string color = "red";
  std::vector<std::string> tags;
  std::optional<int64_t> timeout_us;
};

struct SquareOptions : WidgetCommon {
  int64_t side = 0;  // required
  bool filled = false;
};

const RoundOptions kRoundDefaults;

ComponentKind WidgetKind() {
  using R = RoundOptions;
  using S = SquareOptions;
  ComponentType round = MakeComponentType<R>(
      "round", "a round widget.",
      CommonOptions<R>({
          {"radius", "number", "1.0", "Radius in cm (above 0, at most 100).", SetNumber(&R::radius, 0.0, 100.0, true)},
          {"max_radius", "number", "10.0", "Largest radius allowed (above 0, at most 100).",
           SetNumber(&R::max_radius, 0.0, 100.0, true)},
          {"color", "string", "\"red\"", "red or blue.", SetString(&R::color, {"red", "blue"})},
          {"tags", "list", "[]", "Free-form labels.", SetList(&R::tags)},
          {"timeout", "duration", "", "Give up after this long.", SetDuration(&R::timeout_us)},
      }),
      [](R& r, const ComponentContext& ctx) -> Status {
        if (r.radius > r.max_radius) {
          return Error(Errc::kInvalidArgument, "config: {} has radius {} above max_radius {}", ctx.key, r.radius,
                       r.max_radius);
        }
        return Status::Ok();
      });
  ComponentType square = MakeComponentType<S>(
      "square", "a square widget.",
      CommonOptions<S>({
          {"side", "int", "4", "Side in cm (1 to 1000).", SetInt(&S::side, 1, 1000), /*required=*/true},
          {"filled", "bool", "false", "Whether it is filled.", SetBool(&S::filled)},
      }));
  return TypedKind("test.widget", "widgets for the tests.", {std::move(round), std::move(square)});
}

ComponentRegistry TestRegistry() {
  ComponentRegistry registry;
  EXPECT_TRUE(RegisterComponents(registry).ok());
  EXPECT_TRUE(registry.Register(WidgetKind()).ok());
  return registry;
}

const MachineLimits kMachine{2, 8LL << 30};

Result<LakeConfig> Parse(const std::string& toml) {
  static const ComponentRegistry registry = TestRegistry();
  return ParseConfig(toml, "lake/iotad.toml", kMachine, registry);
}

/// The one-sentence error of `toml`, which must name the file; fails the test when it parses.
std::string ErrorOf(const std::string& toml) {
  auto parsed = Parse(toml);
  if (parsed.ok()) {
    ADD_FAILURE() << "accepted: " << toml;
    return "";
  }
  EXPECT_EQ(parsed.status().code(), Errc::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("lake/iotad.toml"), std::string::npos) << parsed.status().message();
  EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos) << parsed.status().message();
  return parsed.status().message();
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// `text` with the first "# " of each line removed.
std::string Uncomment(const std::string& text) {
  std::string out;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    out += (line.rfind("# ", 0) == 0 ? line.substr(2) : line) + "\n";
    start = end + 1;
  }
  return out;
}

}  // namespace

TEST(ComponentTest, EachTypeGetsItsTypedOptionsWithDefaults) {
  auto parsed = Parse(R"(
[[test.widget]]
name = "big"
type = "round"
radius = 5
tags = ["a", "b"]
timeout = "2m"

[[test.widget]]
name = "plain"
type = "round"

[[test.widget]]
name = "tile"
type = "square"
side = 3
label = "floor"
)");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const auto& widgets = parsed->components.Of("test.widget");
  ASSERT_EQ(widgets.size(), 3u);
  EXPECT_EQ(widgets[0].name, "big");
  EXPECT_EQ(widgets[0].type, "round");
  EXPECT_EQ(widgets[2].index, 2);
  const RoundOptions* big = widgets[0].As<RoundOptions>();
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(widgets[0].As<SquareOptions>(), nullptr);
  EXPECT_DOUBLE_EQ(big->radius, 5.0);
  EXPECT_EQ(big->color, "red");  // default
  EXPECT_EQ(big->tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(big->timeout_us, 120'000'000);
  const auto rounds = parsed->components.OptionsOf<RoundOptions>("test.widget");
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_DOUBLE_EQ(rounds[1]->radius, kRoundDefaults.radius);
  EXPECT_FALSE(rounds[1]->timeout_us.has_value());
  const Component* tile = parsed->components.Find("test.widget", "tile");
  ASSERT_NE(tile, nullptr);
  ASSERT_NE(tile->As<SquareOptions>(), nullptr);
  EXPECT_EQ(tile->As<SquareOptions>()->side, 3);
  EXPECT_FALSE(tile->As<SquareOptions>()->filled);
  EXPECT_EQ(tile->As<SquareOptions>()->label, "floor");  // a common key
  EXPECT_EQ(big->label, "none");
  EXPECT_EQ(big->weight_g, 100);
  EXPECT_TRUE(parsed->components.Of("test.gadget").empty());
}

TEST(ComponentTest, UnknownKeyIsRejectedNamingTheKeyTheFileAndTheTypesKeys) {
  const std::string error = ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"round\"\nradus = 2\n");
  EXPECT_TRUE(Has(error, "unknown key 'test.widget[0].radus'")) << error;
  EXPECT_TRUE(Has(error, "for type \"round\"")) << error;
  EXPECT_TRUE(Has(error, "name, type, label, weight_g, radius, max_radius, color, tags, timeout")) << error;
  // A key of another type is unknown too.
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"round\"\nside = 2\n"), "'test.widget[0].side'"));
}

TEST(ComponentTest, UnknownOrMissingTypeIsRejectedListingTheKnownOnes) {
  const std::string unknown = ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"hexagon\"\n");
  EXPECT_TRUE(Has(unknown, "'test.widget[0].type' must be one of \"round\", \"square\" (got \"hexagon\")")) << unknown;
  const std::string missing = ErrorOf("[[test.widget]]\nname = \"a\"\nradius = 2\n");
  EXPECT_TRUE(Has(missing, "'test.widget[0].type' is required: one of \"round\", \"square\"")) << missing;
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"a\"\ntype = 3\n"), "'test.widget[0].type'"));
}

TEST(ComponentTest, NamesAreRequiredAndUniqueWithinAKind) {
  const std::string duplicate = ErrorOf(
      "[[test.widget]]\nname = \"w\"\ntype = \"round\"\n[[test.widget]]\nname = \"x\"\ntype = \"round\"\n"
      "[[test.widget]]\nname = \"w\"\ntype = \"square\"\nside = 1\n");
  EXPECT_TRUE(Has(duplicate, "test.widget[0] and test.widget[2] are both named \"w\"")) << duplicate;
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\ntype = \"round\"\n"), "'test.widget[0].name' is required"));
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"\"\ntype = \"round\"\n"), "'test.widget[0].name'"));
  // The same name in two kinds is fine.
  auto parsed = Parse(
      "[[test.widget]]\nname = \"w\"\ntype = \"round\"\n[[detect.rule]]\nname = \"w\"\nmetrics = [\"t\"]\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->components.Of("detect.rule").at(0).name, "w");
}

TEST(ComponentTest, TypesRangesRequiredKeysAndTheFactorysCheckAreEnforced) {
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"round\"\nradius = nan\n"),
                  "'test.widget[0].radius' must be a finite number above 0"));
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"round\"\nradius = \"big\"\n"),
                  "'test.widget[0].radius' must be a number"));
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"round\"\ncolor = \"green\"\n"),
                  "'test.widget[0].color' must be one of \"red\", \"blue\""));
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"round\"\ntimeout = \"soon\"\n"),
                  "'test.widget[0].timeout' must be a duration"));
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"square\"\n"),
                  "'test.widget[0].side' is required for type \"square\""));
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"square\"\nside = 0\n"),
                  "'test.widget[0].side' must be an integer from 1 to 1000"));
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"square\"\nside = 1\nweight_g = 0\n"),
                  "'test.widget[0].weight_g' must be an integer from 1 to 10000"));
  EXPECT_TRUE(Has(ErrorOf("[[test.widget]]\nname = \"a\"\ntype = \"round\"\nradius = 20\n"),
                  "test.widget[0] has radius 20 above max_radius 10"));
  EXPECT_TRUE(Has(ErrorOf("[test.widget]\nname = \"a\"\n"), "'test.widget' must be written as [[test.widget]] tables"));
  EXPECT_TRUE(Has(ErrorOf("[test]\nwidgets = 1\n"), "[test] holds [[test.widget]] tables"));
}

TEST(ComponentTest, AKindThatIsNotRegisteredIsAnUnknownSection) {
  auto parsed = ParseConfig("[[test.widget]]\nname = \"a\"\ntype = \"round\"\n", "lake/iotad.toml", kMachine);
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(Has(parsed.status().message(), "unknown section 'test'")) << parsed.status().message();
}

TEST(ComponentTest, ConfigExampleShowsEveryTypeAndItsBlockParsesToTheDefaults) {
  const ComponentRegistry registry = TestRegistry();
  const std::string example = ExampleConfigToml(registry);
  for (const char* part : {"# # [[test.widget]] tables, any number: widgets for the tests.",
                           "# # With type = \"round\": a round widget.", "# type = \"round\"",
                           "# # Radius in cm (above 0, at most 100). (number)", "# radius = 1.0",
                           "# # timeout: Give up after this long. (duration; unset by default)",
                           "# type = \"square\"", "# # Side in cm (1 to 1000). (int, required)", "# side = 4",
                           "# [[detect.rule]]"}) {
    EXPECT_TRUE(Has(example, part)) << part;
  }
  auto whole = ParseConfig(example, "example", kMachine, registry);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  EXPECT_TRUE(whole->components.Of("test.widget").empty());  // commented out

  // Uncommented, the block is a valid config holding one widget of each type with its defaults.
  const std::string block = Uncomment(ExampleComponentToml(*registry.Find("test.widget")));
  auto uncommented = ParseConfig(block, "example", kMachine, registry);
  ASSERT_TRUE(uncommented.ok()) << uncommented.status().message() << "\n" << block;
  const auto& widgets = uncommented->components.Of("test.widget");
  ASSERT_EQ(widgets.size(), 2u);
  EXPECT_EQ(widgets[0].name, "round-1");
  const RoundOptions* round = widgets[0].As<RoundOptions>();
  ASSERT_NE(round, nullptr);
  EXPECT_DOUBLE_EQ(round->radius, kRoundDefaults.radius);
  EXPECT_DOUBLE_EQ(round->max_radius, kRoundDefaults.max_radius);
  EXPECT_EQ(round->color, kRoundDefaults.color);
  EXPECT_EQ(widgets[1].As<SquareOptions>()->side, 4);
  EXPECT_EQ(widgets[1].As<SquareOptions>()->weight_g, kRoundDefaults.weight_g);

  // The product's example shows only registered kinds: no widgets, and the alert sinks.
  const std::string product = ExampleConfigToml();
  EXPECT_FALSE(Has(product, "test.widget"));
  EXPECT_TRUE(Has(product, "# [[alert.sink]]"));
  EXPECT_TRUE(Has(product, "# [[detect.rule]]"));
  // The rule block uncommented: the generated rule (all defaults) and the two of the example.
  auto rules = ParseConfig(Uncomment(ExampleComponentToml(DetectRuleKind())), "example", kMachine);
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  ASSERT_EQ(rules->detect.rules.size(), 3u);
  EXPECT_TRUE(rules->detect.rules[0].metrics.empty());
  EXPECT_FALSE(rules->detect.rules[0].min.has_value());
  EXPECT_EQ(rules->components.Of("detect.rule")[2].name, "freezers");
}

TEST(ComponentTest, RegistrationMistakesAreRefused) {
  ComponentRegistry registry;
  ASSERT_TRUE(registry.Register(WidgetKind()).ok());
  EXPECT_FALSE(registry.Register(WidgetKind()).ok());  // twice
  ComponentKind flat = WidgetKind();
  flat.section = "widget";
  EXPECT_FALSE(registry.Register(flat).ok());
  ComponentKind deep = WidgetKind();
  deep.section = "a.b.c";
  EXPECT_FALSE(registry.Register(deep).ok());
  ComponentKind none = WidgetKind();
  none.section = "test.none";
  none.types.clear();
  EXPECT_FALSE(registry.Register(none).ok());
  ComponentKind named = WidgetKind();
  named.section = "test.named";
  named.types[0].options.push_back({"name", "string", "\"x\"", "clashes with the common key", false});
  EXPECT_FALSE(registry.Register(named).ok());
  ComponentKind twice = WidgetKind();
  twice.section = "test.twice";
  twice.types[1].name = "round";
  EXPECT_FALSE(registry.Register(twice).ok());
  EXPECT_EQ(registry.kinds().size(), 1u);
  EXPECT_NE(ComponentRegistry::Default().Find("detect.rule"), nullptr);
}

TEST(ComponentTest, DetectRulesAreComponentsWithOptionalNames) {
  auto parsed = ParseConfig(R"(
[[detect.rule]]
metrics = ["humidity_pc"]
min = 0
max = 100
[[detect.rule]]
name = "freezers"
devices = ["freezer-*"]
max = -10
)",
                            "t.toml", kMachine);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const auto& rules = parsed->components.Of("detect.rule");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].name, "detect.rule[0]");
  EXPECT_EQ(rules[1].name, "freezers");
  ASSERT_EQ(parsed->detect.rules.size(), 2u);
  EXPECT_EQ(parsed->detect.rules[1].devices, std::vector<std::string>{"freezer-*"});
  EXPECT_EQ(rules[1].As<DetectRule>()->max, -10.0);
  const std::string duplicate =
      ErrorOf("[[detect.rule]]\nname = \"f\"\n[[detect.rule]]\nmin = 1\n[[detect.rule]]\nname = \"f\"\n");
  EXPECT_TRUE(Has(duplicate, "detect.rule[0] and detect.rule[2] are both named \"f\"")) << duplicate;
}

}  // namespace iotad::config
