// Self-signed certificates and keys written to a temp dir, for TLS listener tests.
#pragma once

#include <string>

namespace otlpgate::testing {

struct TlsFiles {
  std::string dir;
  std::string cert;       // self-signed CN=localhost, EC P-256
  std::string key;        // its key
  std::string other_key;  // a key that does not match `cert`
  std::string not_pem;    // a file that holds no PEM
};

// Writes the files once per process (into a fresh temp dir) and returns their paths.
const TlsFiles& tls_files();

}  // namespace otlpgate::testing
