// Test helpers: temporary directories and running make-pki.sh.
#include "temp_pki.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace crossclear::certs::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "crossclear-certs-XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

int RunMakePki(const std::string& out_dir, const std::string& args) {
  const std::string command =
      "bash '" CROSSCLEAR_SOURCE_DIR "/certs/make-pki.sh' '" + out_dir + "' " + args;
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace crossclear::certs::testing
