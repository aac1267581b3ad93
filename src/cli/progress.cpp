#include "progress.hpp"

#include <cstdio>

#include <fmt/core.h>

#include "cli_util.hpp"

namespace actsearch::cli {

ProgressLine::ProgressLine()
    : enabled_(stderr_is_tty()), start_(std::chrono::steady_clock::now()), last_(start_ - std::chrono::hours(1)) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::update(const std::string& text, bool force) {
    if (!enabled_) return;
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const std::size_t pad = last_width_ > text.size() ? last_width_ - text.size() : 0;
    fmt::print(stderr, "\r{}{}", text, std::string(pad, ' '));
    std::fflush(stderr);
    last_width_ = text.size();
}

void ProgressLine::clear() {
    if (!enabled_) return;
    std::lock_guard lock(mutex_);
    if (last_width_ == 0) return;
    fmt::print(stderr, "\r{}\r", std::string(last_width_, ' '));
    std::fflush(stderr);
    last_width_ = 0;
}

double ProgressLine::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string format_seconds(double s) {
    if (s < 0) s = 0;
    const long long t = static_cast<long long>(s + 0.5);
    if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
    if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
    return fmt::format("{}s", t);
}

}  // namespace actsearch::cli
