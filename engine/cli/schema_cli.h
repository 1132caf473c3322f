// `incsim schema [--markdown]` (schema_cli.cpp): the scenario key table (include/incsim/keys.h)
// as a JSON Schema (draft-07, for editors through yaml-language-server) or as the Markdown
// reference committed as scenarios/REFERENCE.md. Both are generated from the table only.
#pragma once

#include <ostream>
#include <string>

namespace CLI {
class App;
}

namespace incsim::cli {

std::string scenario_json_schema();
std::string scenario_reference_markdown();

// Registers the subcommand on `app`; schema_command runs it once parsed (returns 0).
CLI::App* add_schema_command(CLI::App& app);
int schema_command(const CLI::App& schema, std::ostream& out);

}  // namespace incsim::cli
