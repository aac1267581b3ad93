// A one-line progress display on stderr, only when stderr is a terminal. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace actsearch::cli {

class ProgressLine {
public:
    ProgressLine();
    ~ProgressLine();   // clears the line
    bool enabled() const noexcept { return enabled_; }
    // Redraws at most ~5 times a second unless force.
    void update(const std::string& text, bool force = false);
    void clear();
    double elapsed() const;

private:
    bool enabled_;
    std::mutex mutex_;
    std::chrono::steady_clock::time_point start_, last_;
    std::size_t last_width_ = 0;
};

// "1h02m", "3m05s", "42s"
std::string format_seconds(double s);

}  // namespace actsearch::cli
