#include "config/hash.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <memory>

namespace troupe::config {

namespace {

std::string hex_of(const unsigned char* md, unsigned int len) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 0xf];
  }
  return hex;
}

} // namespace

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex_of(md, len);
}

std::optional<std::string> sha256_file_hex(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in{
    std::fopen(path.c_str(), "rb"), &std::fclose};
  if (!in)
    return std::nullopt;
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx{EVP_MD_CTX_new(),
                                                         &EVP_MD_CTX_free};
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  char chunk[1 << 16];
  size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof(chunk), in.get())) > 0)
    EVP_DigestUpdate(ctx.get(), chunk, n);
  if (std::ferror(in.get())) {
    if (errno == 0)
      errno = EIO;
    return std::nullopt;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return hex_of(md, len);
}

} // namespace troupe::config
