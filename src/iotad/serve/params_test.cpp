#include "iotad/serve/params.h"

#include <gtest/gtest.h>

namespace iotad::serve {
namespace {

Request Req(std::vector<std::pair<std::string, std::string>> params) {
  Request r;
  r.path = "/api/x";
  r.params = std::move(params);
  return r;
}

TEST(ParamsTest, ListsFlattenRepeatsAndCommasAndDropDuplicates) {
  const Request r = Req({{"metric", "a,b"}, {"metric", "c"}, {"metric", "a"}, {"device", "d1"}});
  Params p(r);
  auto m = p.List("metric");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (std::vector<std::string>{"a", "b", "c"}));
  auto d = p.List("device");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, std::vector<std::string>{"d1"});
  EXPECT_TRUE(p.Finish().ok());
}

TEST(ParamsTest, BadValuesAreA400NamingTheParameter) {
  for (const auto& value : {std::string("a,,b"), std::string(""), std::string(201, 'x'), std::string("a\nb"),
                            std::string("tab\there"), std::string("del\x7f"), std::string("tem\xff_c"),
                            std::string("\xc3(")}) {
    const Request r = Req({{"location", value}});
    Params p(r);
    auto l = p.List("location");
    ASSERT_FALSE(l.ok()) << value;
    EXPECT_EQ(l.status().code(), Errc::kInvalidArgument);
    EXPECT_NE(l.status().message().find("'location'"), std::string::npos) << l.status().message();
  }
  std::string many;
  for (int i = 0; i <= 100; ++i) {
    if (i) many += ',';
    many += std::to_string(i);
  }
  const Request r = Req({{"device", many}});
  Params p(r);
  auto d = p.List("device");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("at most 100"), std::string::npos);
}

TEST(ParamsTest, OneIntChoiceAndRequired) {
  const Request r = Req({{"limit", "20"}, {"bucket", "day"}, {"id", "dev-1"}, {"id2", "a"}, {"id2", "b"}});
  Params p(r);
  EXPECT_EQ(*p.Int("limit", 5, 1, 200), 20);
  EXPECT_EQ(*p.Int("absent", 5, 1, 200), 5);
  EXPECT_EQ(*p.Choice("bucket", {"hour", "day"}, "hour"), "day");
  EXPECT_EQ(*p.Choice("absent2", {"hour", "day"}, "hour"), "hour");
  EXPECT_EQ(*p.Required("id"), "dev-1");
  EXPECT_FALSE(p.One("id2").ok());  // given twice
  EXPECT_FALSE(p.Required("missing").ok());
  for (const char* bad : {"0", "201", "-1", "1e3", "12x", "", " 5", "99999999999999999999"}) {
    const Request rb = Req({{"limit", bad}});
    Params pb(rb);
    auto n = pb.Int("limit", 5, 1, 200);
    ASSERT_FALSE(n.ok()) << bad;
    EXPECT_NE(n.status().message().find("'limit'"), std::string::npos);
  }
  const Request rc = Req({{"bucket", "week"}});
  Params pc(rc);
  auto c = pc.Choice("bucket", {"hour", "day"}, "hour");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("hour or day"), std::string::npos) << c.status().message();
}

TEST(ParamsTest, TimesAreRfc3339WithAZoneOrADate) {
  const Request r = Req({{"a", "2024-01-05T13:00:00Z"}, {"b", "2024-01-05"}, {"c", "2024-01-05T14:00:00+01:00"}});
  Params p(r);
  EXPECT_EQ(**p.Time("a"), *ParseTimestamp("2024-01-05T13:00:00Z"));
  EXPECT_EQ(**p.Time("b"), *ParseTimestamp("2024-01-05T00:00:00Z"));
  EXPECT_EQ(**p.Time("c"), *ParseTimestamp("2024-01-05T13:00:00Z"));
  EXPECT_FALSE(p.Time("absent")->has_value());
  for (const char* bad : {"2024-01-05T13:00:00", "yesterday", "2024-13-01", "20240105", "2024-01-05T25:00:00Z"}) {
    const Request rb = Req({{"from", bad}});
    Params pb(rb);
    auto t = pb.Time("from");
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.status().message().find("'from'"), std::string::npos);
  }
}

TEST(ParamsTest, FiltersCheckTheRange) {
  {
    const Request r = Req({{"from", "2024-01-05"}, {"to", "2024-01-06"}, {"metric", "temp_c"}, {"detector", "zscore"}});
    Params p(r);
    auto f = p.ReadFilters();
    ASSERT_TRUE(f.ok()) << f.status().message();
    EXPECT_EQ(*f->to - *f->from, kMicrosPerDay);
    EXPECT_EQ(f->metrics, std::vector<std::string>{"temp_c"});
    EXPECT_EQ(f->detectors, std::vector<std::string>{"zscore"});
    EXPECT_TRUE(f->locations.empty());
    EXPECT_TRUE(p.Finish().ok());
  }
  {
    const Request r = Req({{"from", "2024-01-06"}, {"to", "2024-01-05"}});
    Params p(r);
    auto f = p.ReadFilters();
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.status().message().find("before"), std::string::npos);
  }
  {
    const Request r = Req({{"from", "2023-01-01"}, {"to", "2024-03-01"}});
    Params p(r);
    auto f = p.ReadFilters();
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.status().message().find("400 days"), std::string::npos);
  }
}

TEST(ParamsTest, FinishRefusesUnknownParameters) {
  const Request r = Req({{"metric", "a"}, {"sneaky", "1"}});
  Params p(r);
  ASSERT_TRUE(p.List("metric").ok());
  Status st = p.Finish();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::kInvalidArgument);
  EXPECT_EQ(st.message(), "unknown parameter 'sneaky'");
}

}  // namespace
}  // namespace iotad::serve
