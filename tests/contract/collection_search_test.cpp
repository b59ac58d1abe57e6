// SearchCollections (fs/remote/collection_search.h), the client of
// `globusfs search`, against globus-emulator's endpoint_search
// (globus-api.md §2.11): pages asked with limit/offset until has_next_page
// is false or the limit is reached, each hit's id, display name, owner,
// entity_type and https_server (null for Globus Connect Personal); and the
// parser, which refuses a garbled page rather than reading it as empty.
#include "fs/remote/collection_search.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/support/emulator_process.h"
#include "tests/support/static_bearer.h"

namespace globusfs {
namespace {

using json = nlohmann::json;
using testing::EmulatorProcess;

using testing::StaticBearer;

class CollectionSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::EmulatorOptions opts;
    opts.collections = {"lab-one", "lab-two", "lab-three", "archive"};
    opts.personal_collections = {"lab-laptop"};
    emu_ = EmulatorProcess::Start(opts);
    auto login = testing::Login(*emu_, testing::FullScopes(*emu_, {}));
    bearer_ = std::make_unique<StaticBearer>(login.access_tokens.at("transfer.api.globus.org"));
  }
  http::Result<std::vector<fs::CollectionHit>> Search(const std::string& text, int limit, int page_size = 100) {
    return fs::SearchCollections(emu_->http(), bearer_.get(), emu_->base_url() + "/", text, limit, page_size);
  }

  std::unique_ptr<EmulatorProcess> emu_;
  std::unique_ptr<StaticBearer> bearer_;
};

TEST_F(CollectionSearch, PagesUntilTheLastPageOrTheLimit) {
  emu_->ResetStats();
  auto all = Search("lab", 1000, 2);
  ASSERT_TRUE(all.ok()) << all.error().Summary();
  std::set<std::string> names;
  for (const auto& h : *all) names.insert(h.display_name);
  EXPECT_EQ(names, (std::set<std::string>{"lab-one", "lab-two", "lab-three", "lab-laptop"}));
  EXPECT_EQ(all->size(), 4u) << "no hit twice";
  EXPECT_EQ(emu_->RequestCount("transfer.endpoint_search"), 2u) << "two pages of two; the second says no more";

  emu_->ResetStats();
  auto three = Search("lab", 3, 2);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->size(), 3u);
  EXPECT_EQ(emu_->RequestCount("transfer.endpoint_search"), 2u) << "a page of 2, then one of 1";
}

TEST_F(CollectionSearch, EachHitSaysWhatItIs) {
  auto hits = Search("lab-", 10);
  ASSERT_TRUE(hits.ok()) << hits.error().Summary();
  bool saw_laptop = false, saw_mapped = false;
  for (const auto& h : *hits) {
    EXPECT_EQ(h.id.size(), 36u);
    EXPECT_FALSE(h.owner.empty()) << h.display_name;
    if (h.display_name == "lab-laptop") {
      saw_laptop = true;
      EXPECT_EQ(h.entity_type, "GCP_mapped_collection");
      EXPECT_EQ(h.https_server, "") << "null: no HTTPS server";
      EXPECT_EQ(h.id, emu_->collection_id("lab-laptop"));
    } else {
      saw_mapped = true;
      EXPECT_EQ(h.entity_type, "GCSv5_mapped_collection");
      EXPECT_EQ(h.https_server.rfind("https://", 0), 0u) << h.https_server;
    }
  }
  EXPECT_TRUE(saw_laptop && saw_mapped);
  auto none = Search("nothing-like-it", 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(CollectionSearch, ARefusedTokenIsAnError) {
  StaticBearer wrong("not-a-token");
  auto r = fs::SearchCollections(emu_->http(), &wrong, emu_->base_url() + "/", "lab", 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 401);
}

TEST(CollectionSearchParse, AGarbledPageIsAnErrorNotAnEmptyResult) {
  auto ok = fs::ParseEndpointSearchPage(json::parse(
      R"({"DATA_TYPE": "endpoint_list", "limit": 2, "offset": 0, "has_next_page": true,
          "DATA": [{"DATA_TYPE": "endpoint", "id": "x", "display_name": null, "name": "legacy#ep",
                    "owner_string": "ada@globusid.org", "entity_type": "GCSv4_host", "https_server": null,
                    "_rank": 1.5}]})"));
  ASSERT_TRUE(ok.ok()) << ok.error().Summary();
  EXPECT_TRUE(ok->has_next_page);
  ASSERT_EQ(ok->hits.size(), 1u);
  EXPECT_EQ(ok->hits[0].display_name, "legacy#ep") << "a GCSv4 endpoint without a display name shows its name";
  EXPECT_EQ(ok->hits[0].https_server, "");
  for (const char* bad : {R"([])", R"({"DATA_TYPE": "endpoint"})", R"({"DATA_TYPE": "endpoint_list"})",
                          R"({"DATA": [1]})", R"({"DATA": [{"display_name": "no id"}]})",
                          R"({"DATA": [{"id": "x", "https_server": 7}]})"}) {
    auto r = fs::ParseEndpointSearchPage(json::parse(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, http::ErrorKind::kMalformed) << bad;
  }
}

}  // namespace
}  // namespace globusfs
