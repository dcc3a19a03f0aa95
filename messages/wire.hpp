#pragma once

// A compact encoding for the task batches and result batches that cross the
// network between a supervisor and its nodes' relays. It walks the same
// `inspect` field lists as CAF's serializers, so a field added there is
// carried here too. CAF 0.17's binary serializer makes a virtual call and
// returns a caf::error for every field, about 60 per result: the B6 profile
// had (de)serialization at a fifth of the supervisor's CPU. Here a task or
// a result is one byte string to CAF.
//
// Integers are little-endian whatever the host, strings and sequences are
// prefixed with their length (uint32_t). A reader never reads past its
// input: a short or malformed input sets `failed()`.

#include <caf/error.hpp>
#include <caf/meta/annotation.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/sec.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace troupe::wire {

template <class T>
struct is_vector : std::false_type {};

template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

/// How many values an enum has, where a reader must refuse the others
/// (specialized next to the enum); 0 for no check.
template <class T>
struct enum_count : std::integral_constant<size_t, 0> {};

/// Appends what it inspects to `out`.
class writer {
public:
  using result_type = void;
  static constexpr bool reads_state = true;
  static constexpr bool writes_state = false;

  explicit writer(std::string& out) : out_(out) {}

  template <class... Ts>
  void operator()(Ts&&... xs) {
    (put(xs), ...);
  }

private:
  template <class T>
  void put(const T& x) {
    if constexpr (std::is_base_of_v<caf::meta::annotation, T>) {
      // type names and other annotations carry no data
    } else if constexpr (std::is_same_v<T, bool>) {
      out_.push_back(x ? 1 : 0);
    } else if constexpr (std::is_enum_v<T>) {
      put(static_cast<std::underlying_type_t<T>>(x));
    } else if constexpr (std::is_same_v<T, double>) {
      uint64_t bits;
      std::memcpy(&bits, &x, sizeof(bits));
      put(bits);
    } else if constexpr (std::is_integral_v<T>) {
      auto u = static_cast<std::make_unsigned_t<T>>(x);
      for (size_t i = 0; i < sizeof(T); ++i)
        out_.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
    } else if constexpr (std::is_same_v<T, std::string>) {
      put(static_cast<uint32_t>(x.size()));
      out_.append(x);
    } else if constexpr (is_vector<T>::value) {
      put(static_cast<uint32_t>(x.size()));
      for (auto& element : x)
        put(element);
    } else {
      inspect(*this, const_cast<T&>(x)); // the type's field list (ADL)
    }
  }

  std::string& out_;
};

/// Fills what it inspects from `[data, data + size)`.
class reader {
public:
  using result_type = void;
  static constexpr bool reads_state = false;
  static constexpr bool writes_state = true;

  reader(const char* data, size_t size) : pos_(data), end_(data + size) {}

  template <class... Ts>
  void operator()(Ts&&... xs) {
    (get(xs), ...);
  }

  /// Whether an input ran short or held a bad length or value.
  bool failed() const noexcept {
    return failed_;
  }

  /// Whether everything was read.
  bool at_end() const noexcept {
    return pos_ == end_;
  }

private:
  bool take(size_t n) {
    if (failed_ || static_cast<size_t>(end_ - pos_) < n) {
      failed_ = true;
      return false;
    }
    return true;
  }

  template <class T>
  void get(T& x) {
    if constexpr (std::is_base_of_v<caf::meta::annotation, T>) {
      // nothing to read
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!take(1))
        return;
      auto b = static_cast<unsigned char>(*pos_++);
      failed_ = failed_ || b > 1;
      x = b == 1;
    } else if constexpr (std::is_enum_v<T>) {
      std::underlying_type_t<T> u{};
      get(u);
      // A value past the enum's would index arrays by status out of bounds.
      if constexpr (enum_count<T>::value > 0)
        failed_ = failed_ || static_cast<size_t>(u) >= enum_count<T>::value;
      x = static_cast<T>(u);
    } else if constexpr (std::is_same_v<T, double>) {
      uint64_t bits = 0;
      get(bits);
      std::memcpy(&x, &bits, sizeof(bits));
    } else if constexpr (std::is_integral_v<T>) {
      if (!take(sizeof(T)))
        return;
      std::make_unsigned_t<T> u = 0;
      for (size_t i = 0; i < sizeof(T); ++i)
        u |= static_cast<std::make_unsigned_t<T>>(
               static_cast<unsigned char>(pos_[i]))
             << (8 * i);
      pos_ += sizeof(T);
      x = static_cast<T>(u);
    } else if constexpr (std::is_same_v<T, std::string>) {
      uint32_t n = 0;
      get(n);
      if (!take(n))
        return;
      x.assign(pos_, n);
      pos_ += n;
    } else if constexpr (is_vector<T>::value) {
      uint32_t n = 0;
      get(n);
      // Each element takes a byte at least: a length past the input is bad.
      if (failed_ || n > static_cast<size_t>(end_ - pos_)) {
        failed_ = true;
        return;
      }
      x.clear();
      x.resize(n);
      for (auto& element : x) {
        get(element);
        if (failed_)
          return;
      }
    } else {
      inspect(*this, x); // the type's field list (ADL)
    }
  }

  const char* pos_;
  const char* end_;
  bool failed_ = false;
};

/// Whether `Inspector` is one of CAF's serializers or deserializers (the
/// others: to_string's, and the two above).
template <class Inspector, class = void>
struct is_caf_data_processor : std::false_type {};

template <class Inspector>
struct is_caf_data_processor<Inspector,
                             std::void_t<decltype(&Inspector::begin_sequence)>>
  : std::true_type {};

/// Inspects `xs` as one byte string in the encoding above, for CAF's
/// serializer or deserializer `f`.
template <class Inspector, class... Ts>
typename Inspector::result_type as_blob(Inspector& f, Ts&... xs) {
  if constexpr (Inspector::reads_state) {
    thread_local std::string blob;
    blob.clear();
    writer{blob}(xs...);
    auto err = f(blob);
    // One huge output must not stay allocated on this thread for good.
    if (blob.capacity() > (size_t{1} << 20))
      std::string{}.swap(blob);
    return err;
  } else {
    std::string blob;
    if (auto err = f(blob))
      return err;
    reader in{blob.data(), blob.size()};
    in(xs...);
    if (in.failed() || !in.at_end())
      return caf::make_error(caf::sec::malformed_basp_message);
    return caf::error{};
  }
}

/// The `inspect` of a type that crosses the network in batches, over its
/// fields `xs`: one byte string to CAF's serializer and deserializer, field
/// by field to any other inspector (to_string's, the writer and reader).
template <class Inspector, class... Ts>
typename Inspector::result_type
batched_fields(Inspector& f, const char* type_name, Ts&... xs) {
  if constexpr (is_caf_data_processor<Inspector>::value)
    return as_blob(f, xs...);
  else
    return f(caf::meta::type_name(type_name), xs...);
}

} // namespace troupe::wire
