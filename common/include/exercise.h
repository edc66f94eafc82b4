/* exercise.h: how an exercise region looks in a handout: the reference code is
 * replaced by TODO_EXERCISE("id"), which stops the kernel naming the exercise. */
#ifndef EXERCISE_H
#define EXERCISE_H

/*
 * In the reference sources an exercise is marked like this (docs/contributing.md):
 *
 *     // BEGIN EXERCISE 02-1: lock IA32_FEATURE_CONTROL with VMX enabled
 *     // Instruction: ...
 *     // Hint: ...
 *     ...reference code...
 *     // END EXERCISE 02-1
 *
 * grading/handout.py keeps the comment lines and replaces the code with
 * TODO_EXERCISE("02-1");
 */
_Noreturn void exercise_todo(const char *id, const char *func);
#define TODO_EXERCISE(id) exercise_todo(id, __func__)

#endif
