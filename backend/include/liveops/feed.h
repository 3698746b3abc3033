#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace lv::liveops {

/// Fan-out of events to subscribers. A subscriber's callback runs on the publishing thread while
/// the feed's lock is held, so it must only queue the event (never block); in exchange, once
/// `Subscription` is destroyed the callback is never called again.
template <typename Event>
class Feed {
public:
    using Callback = std::function<void(const Event&)>;

    /// Ends a subscription when destroyed (or reset).
    class Subscription {
    public:
        Subscription() = default;
        Subscription(std::weak_ptr<Feed*> feed, std::uint64_t id) : m_feed(std::move(feed)), m_id(id) {}
        Subscription(Subscription&& other) noexcept : m_feed(std::move(other.m_feed)), m_id(other.m_id) { other.m_id = 0; }
        Subscription& operator=(Subscription&& other) noexcept
        {
            if (this != &other) {
                reset();
                m_feed = std::move(other.m_feed);
                m_id = other.m_id;
                other.m_id = 0;
            }
            return *this;
        }
        ~Subscription() { reset(); }
        void reset()
        {
            if (m_id == 0)
                return;
            if (auto feed = m_feed.lock())
                (*feed)->unsubscribe(m_id);
            m_id = 0;
        }

    private:
        std::weak_ptr<Feed*> m_feed;
        std::uint64_t m_id = 0;
    };

    Feed() : m_self(std::make_shared<Feed*>(this)) {}
    Feed(const Feed&) = delete;
    Feed& operator=(const Feed&) = delete;

    /// `replay` runs under the feed's lock before the subscription starts, so nothing published
    /// can fall between what it delivers and the first live event.
    Subscription subscribe(Callback callback, const std::function<void(const Callback&)>& replay = {})
    {
        std::lock_guard lock(m_mutex);
        if (replay)
            replay(callback);
        const std::uint64_t id = ++m_nextId;
        m_subscribers.emplace(id, std::move(callback));
        return Subscription(m_self, id);
    }

    /// `prepare` runs under the feed's lock first (e.g. to number the event and append it to a
    /// history that replays read), so a subscriber sees each event exactly once.
    void publish(Event event, const std::function<void(Event&)>& prepare = {})
    {
        std::lock_guard lock(m_mutex);
        if (prepare)
            prepare(event);
        for (auto& [id, callback] : m_subscribers)
            callback(event);
    }

    std::size_t subscribers() const
    {
        std::lock_guard lock(m_mutex);
        return m_subscribers.size();
    }

private:
    void unsubscribe(std::uint64_t id)
    {
        std::lock_guard lock(m_mutex);
        m_subscribers.erase(id);
    }

    mutable std::mutex m_mutex;
    std::map<std::uint64_t, Callback> m_subscribers;
    std::uint64_t m_nextId = 0;
    std::shared_ptr<Feed*> m_self;  // subscriptions hold it weakly: outliving the feed is harmless
};

} // namespace lv::liveops
