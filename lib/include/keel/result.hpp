// Errors as values: Result<T> holds a T or a Xen errno, never both.
#pragma once

#include <keel/errno.hpp>
#include <new>
#include <type_traits>
#include <utility>

namespace keel {

// The error half of a Result, so `return Err(Errno::XEN_EINVAL);` reads well.
struct Err {
    Errno code;
    constexpr explicit Err(Errno e) : code(e) {}
};

template <typename T>
class [[nodiscard]] Result {
public:
    constexpr Result(const T& v) : ok_(true) { new (&value_) T(v); }
    constexpr Result(T&& v) : ok_(true) { new (&value_) T(std::move(v)); }
    constexpr Result(Err e) : ok_(false), error_(e.code) {}
    Result(const Result& o) : ok_(o.ok_), error_(o.error_)
    {
        if (ok_) new (&value_) T(o.value_);
    }
    Result& operator=(const Result&) = delete;
    ~Result()
    {
        if (ok_) value_.~T();
    }

    constexpr bool ok() const { return ok_; }
    constexpr explicit operator bool() const { return ok_; }
    constexpr Errno error() const { return ok_ ? Errno::OK : error_; }
    // Xen's hypercall convention: the negative errno.
    constexpr long as_xen_ret() const { return -static_cast<long>(error()); }

    T& value() { return value_; }
    const T& value() const { return value_; }
    T& operator*() { return value_; }
    T* operator->() { return &value_; }
    const T* operator->() const { return &value_; }
    T value_or(T fallback) const { return ok_ ? value_ : fallback; }

private:
    bool ok_;
    Errno error_ = Errno::OK;
    union {
        T value_;
    };
};

// Result of an operation that yields nothing but success or an errno.
template <>
class [[nodiscard]] Result<void> {
public:
    constexpr Result() = default;
    constexpr Result(Err e) : error_(e.code) {}
    constexpr bool ok() const { return error_ == Errno::OK; }
    constexpr explicit operator bool() const { return ok(); }
    constexpr Errno error() const { return error_; }
    constexpr long as_xen_ret() const { return -static_cast<long>(error_); }

private:
    Errno error_ = Errno::OK;
};

using Status = Result<void>;

} // namespace keel

// Propagate an error from an expression yielding a Result.
#define KEEL_TRY(expr)                                   \
    do {                                                 \
        auto keel_try_r_ = (expr);                       \
        if (!keel_try_r_.ok()) return ::keel::Err(keel_try_r_.error()); \
    } while (0)
