// actsearch report: the HTML page's pieces (escaping, intervals, best-so-far), the command on a real
// search, and the page rendered in a real browser (Debian's headless chromium; skipped without it).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <algorithm>
#include <string>
#include <vector>

#include "process.hpp"
#include "report_html.hpp"

namespace actsearch::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using cli::html_escape;

TEST(ReportHtml, EscapesEverythingHtmlGivesMeaningTo) {
    EXPECT_EQ(html_escape("min(x<1, x>2) & 'a' \"b\""), "min(x&lt;1, x&gt;2) &amp; &#39;a&#39; &quot;b&quot;");
    EXPECT_EQ(html_escape("x*sigmoid(beta*x)"), "x*sigmoid(beta*x)");
}

db::EvaluationRecord evaluation(std::int64_t candidate, const std::string& task, const std::string& status,
                                double acc, const std::string& fidelity = "f1") {
    db::EvaluationRecord e;
    e.candidate = candidate;
    e.task = task;
    e.fidelity = fidelity;
    e.status = status;
    e.val_acc = acc;
    return e;
}

TEST(ReportHtml, BestSoFarFollowsTheScreeningTaskCandidateByCandidate) {
    db::RunInfo run;
    run.task = "synthetic";
    const std::vector<db::EvaluationRecord> evs{
        evaluation(1, "synthetic", "ok", 0.5),        evaluation(2, "synthetic", "diverged", 0.9),
        evaluation(1, "synthetic", "ok", 0.7),        // candidate 1's second seed: mean 0.6
        evaluation(3, "synthetic", "invalid", 0.0),   evaluation(1, "fmnist-cnn", "ok", 0.99),   // a promotion
        evaluation(4, "synthetic", "ok", 0.55),       evaluation(4, "synthetic", "diverged", 0.0),
        evaluation(5, "synthetic", "ok", 0.65),       evaluation(5, "synthetic", "ok", 0.75),
        evaluation(6, "synthetic", "ok", 0.95, "f2")};   // another rung of the same task
    // 1: 0.6; 2: diverged only (0); 4: 0.55 (its ok seed); 5: 0.7.
    const auto curve = cli::best_so_far(run, evs);
    ASSERT_EQ(curve.size(), 4u);
    EXPECT_DOUBLE_EQ(curve[0], 0.6);
    EXPECT_DOUBLE_EQ(curve[1], 0.6);
    EXPECT_DOUBLE_EQ(curve[2], 0.6);
    EXPECT_DOUBLE_EQ(curve[3], 0.7);
    const auto c = cli::count_outcomes(evs);
    EXPECT_EQ(c.ok, 7);
    EXPECT_EQ(c.diverged, 2);
    EXPECT_EQ(c.invalid, 1);
    EXPECT_EQ(c.other, 0);
}

TEST(ReportHtml, SvgIdsArePrefixedSoThatSeveralShareAPage) {
    const std::string svg = R"svg(<clipPath id="clip0"><rect/></clipPath><g clip-path="url(#clip0)"></g>)svg";
    EXPECT_EQ(cli::prefix_svg_ids(svg, "f-"),
              R"svg(<clipPath id="f-clip0"><rect/></clipPath><g clip-path="url(#f-clip0)"></g>)svg");
}

TEST(ReportHtml, PageEscapesDatabaseText) {
    cli::ReportData d;
    d.title = "a<b>.db";
    db::RunInfo run;
    run.id = 1;
    run.strategy = "random";
    run.config_json = R"({"space": "<script>alert(1)</script>"})";
    d.runs.push_back(run);
    cli::Leaderboard board{"synthetic", "steps=1", {}, 1};
    db::LeaderboardRow row;
    row.expr = "min(x<0, x&1)";
    row.mean = 0.5;
    row.stddev = 0.1;
    row.seeds = 3;
    board.rows.push_back(row);
    d.leaderboards.push_back(board);
    const std::string html = cli::render_report_html(d);
    EXPECT_NE(html.find("min(x&lt;0, x&amp;1)"), std::string::npos);
    EXPECT_EQ(html.find("x<0"), std::string::npos);
    EXPECT_EQ(html.find("<script>alert"), std::string::npos);
    EXPECT_NE(html.find("a&lt;b&gt;.db"), std::string::npos);
    EXPECT_NE(html.find("[0.2516, 0.7484]"), std::string::npos);   // 0.5 -+ 4.3027 * 0.1 / sqrt(3)
}

// A small search of the synthetic task in two runs (so the page has two curves and a strategy median).
struct SearchedDb {
    ScratchDir dir;
    fs::path db = dir.path() / "r.db";
    SearchedDb() {
        const fs::path space = dir.path() / "tiny.space";
        std::ofstream(space) << "name: tiny\nunits: 1\nunary: x, tanh(x), relu(x), sin(x), x^2\n"
                                "binary: x1 + x2, x1 * x2, max(x1, x2)\n";
        for (const char* strategy : {"random", "evolution"}) {
            const auto r = run_binary({"search", "--space", space.string(), "--strategy", strategy, "--task",
                                       "synthetic", "--steps", "60", "--budget", "12", "--seeds", "2", "--promote",
                                       "0", "--threads", "2", "--db", db.string(), "--quiet"},
                                      dir.path());
            EXPECT_EQ(r.status, 0) << r.err;
        }
    }
};

const char* const kSections[] = {"id=\"runs\"", "id=\"leaderboard\"", "id=\"functions\"", "id=\"progress\"",
                                 "id=\"outcomes\""};

TEST(ReportCommand, WritesOneSelfContainedPage) {
    SearchedDb s;
    const fs::path out = s.dir.path() / "report.html";
    const auto r = run_binary({"report", "--db", s.db.string(), "-o", out.string()}, s.dir.path());
    ASSERT_EQ(r.status, 0) << r.err;
    const std::string html = read_file(out);
    for (const char* section : kSections) EXPECT_NE(html.find(section), std::string::npos) << section;
    // Self-contained: nothing is fetched (no src= or stylesheet link; the only URLs are SVG's namespace).
    EXPECT_EQ(html.find(" src="), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_EQ(std::regex_replace(html, std::regex("http://www.w3.org/2000/svg"), "").find("http"), std::string::npos);
    EXPECT_EQ(std::count(html.begin(), html.end(), '\0'), 0);
    EXPECT_NE(html.find("run 1 (random, synthetic)"), std::string::npos);
    EXPECT_NE(html.find("run 2 (evolution, synthetic)"), std::string::npos);
    EXPECT_NE(html.find("95% interval"), std::string::npos);

    const auto one = run_binary({"report", "--db", s.db.string(), "--run", "2", "-o", out.string()}, s.dir.path());
    ASSERT_EQ(one.status, 0) << one.err;
    const std::string html2 = read_file(out);
    EXPECT_EQ(html2.find("run 1 (random"), std::string::npos);
    EXPECT_NE(html2.find("run 2 (evolution"), std::string::npos);
}

TEST(ReportCommand, BadInputIsOneLineAndExitTwo) {
    SearchedDb s;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"report", "--db", (s.dir.path() / "missing.db").string()},
             {"report", "--db", s.db.string(), "--run", "99", "-o", (s.dir.path() / "x.html").string()},
             {"report", "--db", s.db.string(), "-o", (s.dir.path() / "no/such/dir.html").string()}}) {
        const auto r = run_binary(args, s.dir.path());
        EXPECT_EQ(r.status, 2) << args[2];
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
}

// --- In a real browser. ---

std::string find_chromium() {
    for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
        if (fs::exists(p)) return p;
    return {};
}

// Runs headless chromium on a local file: the DOM after load (scripts run) and its log on stderr.
ProcessResult chromium(const std::string& binary, const fs::path& page, const fs::path& dir,
                       const std::string& action) {
    const fs::path profile = dir / "profile";
    fs::create_directories(profile);
    Child c({binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + profile.string(), "--enable-logging=stderr", "--v=0", "--window-size=1280,2000",
             action, "file://" + page.string()},
            dir);
    return c.wait(120s);
}

// Console messages (an uncaught exception, a resource that failed to load) as chromium logs them.
std::vector<std::string> console_lines(const std::string& log) {
    std::vector<std::string> out;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);)
        if (line.find(":CONSOLE") != std::string::npos) out.push_back(line);
    return out;
}

TEST(ReportBrowser, ConsoleErrorsAreSeen) {
    // The check below must be able to fail: a page with a script error is caught.
    const std::string browser = find_chromium();
    if (browser.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
    ScratchDir dir;
    const fs::path page = dir.path() / "bad.html";
    std::ofstream(page) << "<!DOCTYPE html><html><body><script>throw new Error('boom');</script></body></html>";
    const auto r = chromium(browser, page, dir.path(), "--dump-dom");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto lines = console_lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_NE(lines[0].find("boom"), std::string::npos);
}

TEST(ReportBrowser, RendersWithoutConsoleErrors) {
    const std::string browser = find_chromium();
    if (browser.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
    SearchedDb s;
    const fs::path page = s.dir.path() / "report.html";
    const auto made = run_binary({"report", "--db", s.db.string(), "-o", page.string()}, s.dir.path());
    ASSERT_EQ(made.status, 0) << made.err;

    const auto dom = chromium(browser, page, s.dir.path(), "--dump-dom");
    ASSERT_EQ(dom.status, 0) << dom.err;
    EXPECT_TRUE(console_lines(dom.err).empty()) << dom.err;
    for (const char* section : kSections) EXPECT_NE(dom.out.find(section), std::string::npos) << section;
    // The page's script ran to its end: it counts the sortable tables (runs, 1 leaderboard, outcomes).
    EXPECT_NE(dom.out.find("data-sortable=\"3\""), std::string::npos) << dom.out.substr(0, 400);
    EXPECT_NE(dom.out.find("<svg"), std::string::npos);

    const fs::path png = s.dir.path() / "report.png";
    const auto shot = chromium(browser, page, s.dir.path(), "--screenshot=" + png.string());
    ASSERT_EQ(shot.status, 0) << shot.err;
    EXPECT_TRUE(console_lines(shot.err).empty()) << shot.err;
    const std::string image = read_file(png);
    ASSERT_GT(image.size(), 20000u);   // a blank 1280x2000 PNG compresses to a few kB
    EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace
}  // namespace actsearch::test
