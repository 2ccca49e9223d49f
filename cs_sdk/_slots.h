/* Object slots read and written by offset, found from their member descriptors: one rule
 * for both accelerators that do it (_speedups.c, the pipeline queue's slots;
 * events/_init_speedups.c, BaseModel's). Each is its own extension module, so each includes
 * this header rather than linking a shared function. */
#ifndef CS_SDK_SLOTS_H
#define CS_SDK_SLOTS_H

#include <Python.h>
#include <structmember.h>

#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif
#ifndef Py_READONLY
#define Py_READONLY READONLY
#endif

/* Where the slot `descr` describes is in an instance: a writable object slot (the kind
 * ``__slots__`` makes) at a positive offset; 0 for anything else (a property, a getset, a
 * read-only member, NULL), whose reads and writes then go through the descriptor. */
static inline Py_ssize_t
plain_slot_offset(PyObject *descr)
{
    if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type))
        return 0;
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    if (member->type != Py_T_OBJECT_EX || (member->flags & Py_READONLY) || member->offset <= 0)
        return 0;
    return member->offset;
}

#endif
