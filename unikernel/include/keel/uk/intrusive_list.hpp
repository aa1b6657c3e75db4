// Intrusive doubly linked list. The links live inside the objects they chain
// (a Thread carries its own run-queue link), so queueing never allocates and
// unlinking from the middle is O(1): a woken thread leaves its wait queue
// without anyone searching for it.
//
// An object joins lists of a given Tag by deriving from ListLink<Tag>; it can
// sit on one list per Tag at a time. The list is circular around a sentinel.
#pragma once

#include <cstddef>

namespace keel::uk {

template <typename Tag>
struct ListLink {
    ListLink* prev = nullptr;
    ListLink* next = nullptr;

    bool linked() const { return next != nullptr; }
    // Leaves whichever list holds this link (no-op when on none).
    void unlink()
    {
        if (!linked()) return;
        prev->next = next;
        next->prev = prev;
        prev = next = nullptr;
    }
};

template <typename T, typename Tag>
class IntrusiveList {
    using Link = ListLink<Tag>;

public:
    IntrusiveList() { head_.prev = head_.next = &head_; }
    IntrusiveList(const IntrusiveList&) = delete;
    IntrusiveList& operator=(const IntrusiveList&) = delete;

    bool empty() const { return head_.next == &head_; }

    void push_back(T& t) { insert_before(head_, link(t)); }
    void push_front(T& t) { insert_before(*head_.next, link(t)); }
    // Inserts `t` just before `pos`, which must be on this list.
    void insert_before(T& pos, T& t) { insert_before(link(pos), link(t)); }

    T* front() { return empty() ? nullptr : owner(head_.next); }
    const T* front() const { return empty() ? nullptr : owner(head_.next); }
    T* back() { return empty() ? nullptr : owner(head_.prev); }
    T* pop_front()
    {
        T* t = front();
        if (t != nullptr) link(*t).unlink();
        return t;
    }
    static void remove(T& t) { link(t).unlink(); }

    // Neighbours on this list; nullptr past either end.
    T* next(T& t) { return link(t).next == &head_ ? nullptr : owner(link(t).next); }
    T* prev(T& t) { return link(t).prev == &head_ ? nullptr : owner(link(t).prev); }
    const T* next(const T& t) const
    {
        return link(t).next == &head_ ? nullptr : owner(link(t).next);
    }

    std::size_t size() const
    {
        std::size_t n = 0;
        for (const Link* l = head_.next; l != &head_; l = l->next) ++n;
        return n;
    }

private:
    static Link& link(T& t) { return static_cast<Link&>(t); }
    static const Link& link(const T& t) { return static_cast<const Link&>(t); }
    static T* owner(Link* l) { return static_cast<T*>(l); }
    static const T* owner(const Link* l) { return static_cast<const T*>(l); }

    static void insert_before(Link& pos, Link& l)
    {
        l.prev = pos.prev;
        l.next = &pos;
        pos.prev->next = &l;
        pos.prev = &l;
    }

    Link head_;
};

} // namespace keel::uk
