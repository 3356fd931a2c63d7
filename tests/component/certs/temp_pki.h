// Test helpers: a temporary directory removed at scope exit, and running certs/make-pki.sh.
#ifndef CROSSCLEAR_TESTS_COMPONENT_CERTS_TEMP_PKI_H_
#define CROSSCLEAR_TESTS_COMPONENT_CERTS_TEMP_PKI_H_

#include <string>

namespace crossclear::certs::testing {

// A fresh directory under the system temp dir; removed, with its contents, on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `bash <source>/certs/make-pki.sh <out_dir> <args>` and returns its exit status (-1 if it
// did not exit normally). `args` is pasted into a shell command: tests pass only plain words.
int RunMakePki(const std::string& out_dir, const std::string& args);

// Makes <dir>/<name>.pem and <name>.key: a leaf signed by <dir>/ca.pem (made by make-pki.sh) whose
// subjectAltName is exactly `san`, in openssl's syntax (e.g. "DNS:spiffe://crossclear/hub,
// DNS:localhost"), for certificates make-pki.sh would never make. Returns openssl's exit status.
int MakeLeafWithSan(const std::string& dir, const std::string& name, const std::string& san);

// The whole file, or "" if it cannot be read.
std::string ReadAll(const std::string& path);

}  // namespace crossclear::certs::testing

#endif  // CROSSCLEAR_TESTS_COMPONENT_CERTS_TEMP_PKI_H_
