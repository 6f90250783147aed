#pragma once
// Result<T>: the value or the reason it could not be produced, for expected failures.
// (std::expected is C++23 and clang 14/16 cannot compile libstdc++ 12's <expected>.)

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace halo {

struct Error {
    std::string message; // complete sentence fragment: "Failed to read '/x': No such file"
    int errno_value = 0; // 0 when not an OS error
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool ok() const noexcept { return m_v.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() &
    {
        assert(ok());
        return std::get<0>(m_v);
    }
    const T& value() const&
    {
        assert(ok());
        return std::get<0>(m_v);
    }
    T&& value() &&
    {
        assert(ok());
        return std::get<0>(std::move(m_v));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const
    {
        assert(!ok());
        return std::get<1>(m_v);
    }

    template <typename U>
    T value_or(U&& fallback) const&
    {
        return ok() ? value() : T(std::forward<U>(fallback));
    }

private:
    std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_failed(true) {}
    bool ok() const noexcept { return !m_failed; }
    explicit operator bool() const noexcept { return ok(); }
    const Error& error() const
    {
        assert(m_failed);
        return m_error;
    }

private:
    Error m_error;
    bool m_failed = false;
};

// Propagate a failed Result from the enclosing function returning Result<U>.
#define HALO_TRY(expr)                                                                                                 \
    do {                                                                                                               \
        auto&& halo_try_r_ = (expr);                                                                                   \
        if (!halo_try_r_) return ::halo::Error(halo_try_r_.error());                                                   \
    } while (0)

} // namespace halo
