// libedit's readline-compatible interface: line editing, history and completion.
#include <stdio.h>
#include <editline/readline.h>
