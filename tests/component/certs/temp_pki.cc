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

int MakeLeafWithSan(const std::string& dir, const std::string& name, const std::string& san) {
  const std::string base = dir + "/" + name;
  {
    std::ofstream config(base + ".cnf");
    config << "[req]\ndistinguished_name = dn\nprompt = no\n"
           << "[dn]\nO = crossclear test\nCN = " << name << "\n"
           << "[leaf_ext]\nbasicConstraints = critical, CA:FALSE\n"
           << "keyUsage = critical, digitalSignature\n"
           << "extendedKeyUsage = serverAuth, clientAuth\n"
           << "subjectAltName = " << san << "\n";
  }
  const std::string command =
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -sha256 -days 2"
      " -config '" +
      base + ".cnf' -extensions leaf_ext -CA '" + dir + "/ca.pem' -CAkey '" + dir +
      "/ca.key' -keyout '" + base + ".key' -out '" + base + ".pem' >'" + base + ".log' 2>&1";
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
