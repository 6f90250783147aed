#pragma once
// An owning handle for a C object whose library frees it with one function: a std::unique_ptr
// with a stateless deleter, so the handle is the size of a pointer.
//   using VersionPtr = CHandle<drmVersion, drmFreeVersion>;

#include <memory>

namespace halo {

template <auto Free>
struct CDeleter {
    template <typename T>
    void operator()(T* p) const noexcept
    {
        Free(p);
    }
};

template <typename T, auto Free>
using CHandle = std::unique_ptr<T, CDeleter<Free>>;

} // namespace halo
