import type { Command } from 'commander';

/** Words to complete after each command path ("" is the top level). */
function tree(program: Command): Map<string, string[]> {
  const words = new Map<string, string[]>();
  const walk = (command: Command, path: string) => {
    const subcommands = command.commands.map((sub) => sub.name());
    const flags = command.options.flatMap((option) =>
      [option.long, option.short].filter((f): f is string => Boolean(f)),
    );
    words.set(path, [...subcommands, ...flags]);
    for (const sub of command.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program, '');
  return words;
}

/** A bash (or zsh through bashcompinit) completion script built from the command tree. */
export function completionScript(program: Command, shell: string): string {
  const cases = [...tree(program)]
    .map(([path, words]) => `    "${path}") words="${words.join(' ')}" ;;`)
    .join('\n');
  const script = `_roam_complete() {
  local cur path="" i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) path="\${path:+$path }\${COMP_WORDS[i]}" ;; esac
  done
  local words=""
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _roam_complete roam`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${script}` : script;
}
