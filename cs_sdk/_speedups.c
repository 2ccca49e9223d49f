/*
 * cs_sdk._speedups: the recording hot path of Client.milestone() in C.
 *
 * Optional: without a compiler, or on another Python implementation, the package runs the
 * same logic in pure Python (Client.milestone in _client.py, the reference). This file only
 * takes the common case: a str name, a flat dict of scalar properties, string ids or none,
 * no explicit timestamp. Anything else, including every invalid input, goes to the Python
 * method with the same arguments, so errors, drops, counters and strict mode behave exactly
 * as there. The fast path has no side effect before its commit point (the sequence number),
 * so handing over before it is always safe.
 *
 * What it builds is what Client._emit builds: the QueuedEvent tuple of _record.py, handed to
 * client._submit. Per-client state that changes at run time (_submit, _opted_out, _id_high,
 * _next_seq) is read from the client's __dict__ on every call, so testing.capture(), opt_out()
 * and a fork are seen at once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    PyObject *client;       /* the Client */
    PyObject *client_dict;  /* its __dict__ */
    PyObject *slow;         /* Client.milestone, the pure-Python reference (unbound) */
    PyObject *schema;       /* the milestone SchemaRef */
    PyObject *identity_var; /* ContextVar[Identity] */
    PyObject *otel_context; /* () -> Context, or the ContextVar holding it; falsy when empty */
    PyObject *span_ids;     /* (context) -> (trace_id, span_id, trace_flags) */
    PyObject *time_ns;      /* time.time_ns */
    Py_ssize_t max_name;
    Py_ssize_t max_id; /* the id rule's bound (_ids.py); anything else goes to Python */
    Py_ssize_t max_string;
    Py_ssize_t max_properties;
    long long record_bytes;
    long long value_bytes;
} Recorder;

static PyObject *str_user_id, *str_account_id, *str_session_id, *str_properties, *str_timestamp;
static PyObject *str_submit, *str_opted_out, *str_id_high, *str_next_seq, *str_internal_error;
static PyObject *str_watched;
static PyObject *zero;

static int
Recorder_traverse(Recorder *self, visitproc visit, void *arg)
{
    Py_VISIT(self->client);
    Py_VISIT(self->client_dict);
    Py_VISIT(self->slow);
    Py_VISIT(self->schema);
    Py_VISIT(self->identity_var);
    Py_VISIT(self->otel_context);
    Py_VISIT(self->span_ids);
    Py_VISIT(self->time_ns);
    return 0;
}

static int
Recorder_clear(Recorder *self)
{
    Py_CLEAR(self->client);
    Py_CLEAR(self->client_dict);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->schema);
    Py_CLEAR(self->identity_var);
    Py_CLEAR(self->otel_context);
    Py_CLEAR(self->span_ids);
    Py_CLEAR(self->time_ns);
    return 0;
}

static void
Recorder_dealloc(Recorder *self)
{
    PyObject_GC_UnTrack(self);
    Recorder_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
Recorder_init(Recorder *self, PyObject *args, PyObject *kwds)
{
    PyObject *client, *slow, *schema, *identity_var, *otel_context, *span_ids, *time_ns;
    Py_ssize_t max_name, max_id, max_string, max_properties;
    long long record_bytes, value_bytes;
    static char *kwlist[] = {"client", "slow", "schema", "identity_var", "otel_context",
                             "span_ids", "time_ns", "max_name", "max_id", "max_string",
                             "max_properties", "record_bytes", "value_bytes", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOOOnnnnLL", kwlist, &client, &slow,
                                     &schema, &identity_var, &otel_context, &span_ids,
                                     &time_ns, &max_name, &max_id, &max_string,
                                     &max_properties, &record_bytes, &value_bytes))
        return -1;
    if (!PyContextVar_CheckExact(identity_var)) {
        PyErr_SetString(PyExc_TypeError, "identity_var must be a ContextVar");
        return -1;
    }
    PyObject *client_dict = PyObject_GenericGetDict(client, NULL);
    if (client_dict == NULL)
        return -1;
    Recorder_clear(self);
    self->client = Py_NewRef(client);
    self->client_dict = client_dict;
    self->slow = Py_NewRef(slow);
    self->schema = Py_NewRef(schema);
    self->identity_var = Py_NewRef(identity_var);
    self->otel_context = Py_NewRef(otel_context);
    self->span_ids = Py_NewRef(span_ids);
    self->time_ns = Py_NewRef(time_ns);
    self->max_name = max_name;
    self->max_id = max_id;
    self->max_string = max_string;
    self->max_properties = max_properties;
    self->record_bytes = record_bytes;
    self->value_bytes = value_bytes;
    return 0;
}

/* Count an event lost to an error that could not be reported, without calling anything
 * (calls fail a few frames from the recursion limit): the client's `_unreported` list,
 * [refused before the commit point, lost after it], bumped in place. */
static void
count_unreported(Recorder *self, Py_ssize_t committed)
{
    PyObject *box = PyDict_GetItemString(self->client_dict, "_unreported"); /* borrowed */
    if (box != NULL && PyList_CheckExact(box) && PyList_GET_SIZE(box) == 2) {
        long count = PyLong_AsLong(PyList_GET_ITEM(box, committed));
        PyObject *bumped = count < 0 ? NULL : PyLong_FromLong(count + 1);
        if (bumped != NULL)
            PyList_SetItem(box, committed, bumped); /* steals bumped */
    }
    PyErr_Clear();
}

/* The pure-Python method with the caller's arguments, exactly as they came. */
static PyObject *
call_slow(Recorder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    Py_ssize_t total = nargs + nkw;
    PyObject *small[16];
    PyObject **stack = small;
    if (total + 1 > 16) {
        stack = PyMem_Malloc((total + 1) * sizeof(PyObject *));
        if (stack == NULL)
            return PyErr_NoMemory();
    }
    stack[0] = self->client;
    for (Py_ssize_t i = 0; i < total; i++)
        stack[i + 1] = args[i];
    PyObject *result = PyObject_Vectorcall(self->slow, stack, nargs + 1, kwnames);
    if (stack != small)
        PyMem_Free(stack);
    if (result == NULL && (PyErr_ExceptionMatches(PyExc_RecursionError) ||
                           PyErr_ExceptionMatches(PyExc_MemoryError))) {
        /* The Python method could not even start (a few frames from the recursion limit,
         * out of memory): refused and counted, never raised into the host. */
        PyErr_Clear();
        count_unreported(self, 0);
        Py_RETURN_NONE;
    }
    return result;
}

/* A user, account or session id given explicitly: NULL/None (take the scope's), a non-empty
 * exact str within the id rule's bound (kept), or anything else (0: the Python method applies
 * the id rule of _ids.py: an int or a UUID converted, the rest refused). */
static inline int
plain_id(PyObject *value, Py_ssize_t max_id)
{
    if (value == NULL || value == Py_None)
        return 1;
    return PyUnicode_CheckExact(value) && PyUnicode_GET_LENGTH(value) > 0 &&
           PyUnicode_GET_LENGTH(value) <= max_id;
}

/* The name rule of _names.py, ^[a-z][a-z0-9_]*([.-][a-z0-9_]+)*$ within max_name characters:
 * 1 if `name` (an exact str) obeys it, 0 if not (the Python method decides, with its error). */
static int
plain_name(PyObject *name, Py_ssize_t max_name)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(name);
    if (length == 0 || length > max_name || !PyUnicode_IS_ASCII(name))
        return 0;
    const Py_UCS1 *text = PyUnicode_1BYTE_DATA(name);
    if (text[0] < 'a' || text[0] > 'z')
        return 0;
    int after_separator = 0;
    for (Py_ssize_t i = 1; i < length; i++) {
        Py_UCS1 c = text[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
            after_separator = 0;
        else if ((c == '.' || c == '-') && !after_separator)
            after_separator = 1;
        else
            return 0;
    }
    return !after_separator;
}

/* A validated copy of a flat dict of scalars and its estimated bytes, or NULL without an
 * error set when the Python validator has to look (nested values, subclasses, bad values).
 * The copy is made first and checked, so nothing can change what was checked. */
static PyObject *
copy_flat_properties(Recorder *self, PyObject *properties, long long *size)
{
    PyObject *copy = PyDict_Copy(properties);
    if (copy == NULL) {
        PyErr_Clear();
        return NULL;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    long long chars = 0;
    while (PyDict_Next(copy, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key))
            goto other;
        Py_ssize_t key_length = PyUnicode_GET_LENGTH(key);
        if (key_length == 0 || key_length > self->max_name)
            goto other;
        if (PyUnicode_CheckExact(value)) {
            Py_ssize_t length = PyUnicode_GET_LENGTH(value);
            if (length > self->max_string)
                goto other;
            chars += length;
        }
        else if (PyLong_CheckExact(value)) {
            int overflow;
            (void)PyLong_AsLongLongAndOverflow(value, &overflow);
            if (overflow)
                goto other; /* outside int64 */
        }
        else if (PyFloat_CheckExact(value)) {
            if (!isfinite(PyFloat_AS_DOUBLE(value)))
                goto other;
        }
        else if (value != Py_None && !PyBool_Check(value)) {
            goto other;
        }
    }
    *size = self->value_bytes * PyDict_GET_SIZE(copy) + chars;
    return copy;
other:
    Py_DECREF(copy);
    return NULL;
}

static const char HEX[] = "0123456789abcdef";

/* 32 lowercase hex digits: hex(high << 64 | low)[2:] with the top bit of high set. */
static PyObject *
event_id(unsigned long long high, unsigned long long low)
{
    PyObject *text = PyUnicode_New(32, 127);
    if (text == NULL)
        return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(text);
    for (int i = 15; i >= 0; i--) {
        out[i] = HEX[high & 15];
        out[16 + i] = HEX[low & 15];
        high >>= 4;
        low >>= 4;
    }
    return text;
}

static PyObject *
client_attribute(Recorder *self, PyObject *name)
{
    return PyDict_GetItemWithError(self->client_dict, name); /* borrowed, NULL if missing */
}

/* After the commit point, an Exception is the Python method's `except Exception:` branch:
 * counted as an internal error, None returned. Anything else (KeyboardInterrupt) goes up. */
static PyObject *
internal_error(Recorder *self)
{
    if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_Exception))
        return NULL;
    PyErr_Clear();
    PyObject *result = PyObject_CallMethodOneArg(self->client, str_internal_error, Py_True);
    if (result == NULL) {
        /* Reporting failed too (RecursionError near the limit, MemoryError): never raise
         * into the host. The Python guard does the same. */
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return NULL;
        PyErr_Clear();
        count_unreported(self, 1); /* recorded, then lost: on the books' loss side */
        Py_RETURN_NONE;
    }
    Py_DECREF(result);
    Py_RETURN_NONE;
}

static PyObject *
Recorder_milestone(Recorder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *user_id = NULL, *account_id = NULL, *session_id = NULL;
    PyObject *properties = NULL, *timestamp = NULL;
    if (self->client == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Recorder.__init__ was not called");
        return NULL;
    }
    if (nargs != 1)
        return call_slow(self, args, nargsf, kwnames);
    if (kwnames != NULL) {
        Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t i = 0; i < nkw; i++) {
            PyObject *kw = PyTuple_GET_ITEM(kwnames, i);
            PyObject *value = args[nargs + i];
            /* Keyword names from call sites are interned: identity is the usual match. */
            if (kw == str_user_id)
                user_id = value;
            else if (kw == str_account_id)
                account_id = value;
            else if (kw == str_session_id)
                session_id = value;
            else if (kw == str_properties)
                properties = value;
            else if (kw == str_timestamp)
                timestamp = value;
            else
                return call_slow(self, args, nargsf, kwnames);
        }
    }
    PyObject *name = args[0];
    if (!PyUnicode_CheckExact(name) || !plain_name(name, self->max_name))
        return call_slow(self, args, nargsf, kwnames);
    /* A milestone some prompt depends on (client._watched): the Python method also tells the
     * prompt engine at once, so next_for() agrees immediately. Rare by nature. */
    PyObject *watched = client_attribute(self, str_watched);
    if (watched == NULL && PyErr_Occurred())
        return NULL;
    if (watched != NULL && PyAnySet_Check(watched) && PySet_GET_SIZE(watched) > 0) {
        int hit = PySet_Contains(watched, name);
        if (hit < 0)
            PyErr_Clear();
        if (hit != 0)
            return call_slow(self, args, nargsf, kwnames);
    }
    if ((timestamp != NULL && timestamp != Py_None) || !plain_id(user_id, self->max_id) ||
        !plain_id(account_id, self->max_id) || !plain_id(session_id, self->max_id))
        return call_slow(self, args, nargsf, kwnames);
    if (properties != NULL && properties != Py_None &&
        (!PyDict_CheckExact(properties) ||
         PyDict_GET_SIZE(properties) > self->max_properties))
        return call_slow(self, args, nargsf, kwnames);

    /* Strong references: the calls below can run Python code (a finalizer during an
     * allocation, another thread at a switch) that replaces these attributes. */
    PyObject *submit = client_attribute(self, str_submit);
    PyObject *opted_out = submit ? client_attribute(self, str_opted_out) : NULL;
    PyObject *id_high = opted_out ? client_attribute(self, str_id_high) : NULL;
    PyObject *next_seq = id_high ? client_attribute(self, str_next_seq) : NULL;
    if (next_seq == NULL || !PyAnySet_Check(opted_out) || !PyLong_CheckExact(id_high)) {
        if (PyErr_Occurred())
            return NULL;
        return call_slow(self, args, nargsf, kwnames);
    }
    unsigned long long high = PyLong_AsUnsignedLongLong(id_high);
    if (high == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return call_slow(self, args, nargsf, kwnames);
    }
    Py_INCREF(submit);
    Py_INCREF(opted_out);
    Py_INCREF(next_seq);

    PyObject *identity = NULL, *body = NULL, *trace = NULL, *span = NULL, *flags = NULL;
    PyObject *span_ids = NULL, *id = NULL, *result = NULL;
    long long size = 0;
    int committed = 0;
    if (PyContextVar_Get(self->identity_var, NULL, &identity) < 0 || identity == NULL)
        goto done;
    if (!PyTuple_Check(identity) || PyTuple_GET_SIZE(identity) != 3)
        goto done;
    if (user_id == NULL || user_id == Py_None)
        user_id = PyTuple_GET_ITEM(identity, 0);
    if (account_id == NULL || account_id == Py_None)
        account_id = PyTuple_GET_ITEM(identity, 1);
    if (session_id == NULL || session_id == Py_None)
        session_id = PyTuple_GET_ITEM(identity, 2);
    if (PySet_GET_SIZE(opted_out) > 0 && PySet_Contains(opted_out, user_id) != 0)
        goto done; /* opted out (counted by the Python method), or an error */

    if (properties != NULL && properties != Py_None && PyDict_GET_SIZE(properties) > 0) {
        body = copy_flat_properties(self, properties, &size);
        if (body == NULL)
            goto done;
    }
    else {
        body = Py_NewRef(Py_None);
    }

    PyObject *context = NULL;
    if (PyContextVar_CheckExact(self->otel_context)) {
        if (PyContextVar_Get(self->otel_context, NULL, &context) < 0)
            goto done;
        if (context == NULL) /* no value and no default: no span */
            context = Py_NewRef(Py_None);
    }
    else {
        context = PyObject_CallNoArgs(self->otel_context);
    }
    if (context == NULL)
        goto done;
    int in_span = PyObject_IsTrue(context);
    if (in_span > 0)
        span_ids = PyObject_CallOneArg(self->span_ids, context);
    Py_DECREF(context);
    if (in_span < 0)
        goto done;
    if (in_span) {
        if (span_ids == NULL || !PyTuple_Check(span_ids) || PyTuple_GET_SIZE(span_ids) != 3)
            goto done;
        trace = PyTuple_GET_ITEM(span_ids, 0);
        span = PyTuple_GET_ITEM(span_ids, 1);
        flags = PyTuple_GET_ITEM(span_ids, 2);
    }
    else {
        trace = span = flags = zero;
    }

    /* Commit point: from here on the event counts as recorded, and a failure is the Python
     * method's internal error rather than a reason to hand over. */
    PyObject *seq = PyObject_CallNoArgs(next_seq);
    if (seq == NULL)
        goto done; /* not counted: the Python method counts its own outcome */
    committed = 1;
    unsigned long long low = PyLong_AsUnsignedLongLongMask(seq);
    Py_DECREF(seq);
    if (low == (unsigned long long)-1 && PyErr_Occurred())
        goto done;
    id = event_id(high, low);
    if (id == NULL)
        goto done;
    PyObject *now = PyObject_CallNoArgs(self->time_ns);
    /* Every byte the event holds counts against max_queue_bytes, its ids included. */
    size += PyUnicode_GET_LENGTH(name);
    if (PyUnicode_Check(user_id))
        size += PyUnicode_GET_LENGTH(user_id);
    if (PyUnicode_Check(account_id))
        size += PyUnicode_GET_LENGTH(account_id);
    if (PyUnicode_Check(session_id))
        size += PyUnicode_GET_LENGTH(session_id);
    PyObject *bytes = PyLong_FromLongLong(self->record_bytes + size);
    PyObject *queued = PyTuple_New(13);
    if (now == NULL || bytes == NULL || queued == NULL) {
        Py_XDECREF(now);
        Py_XDECREF(bytes);
        Py_XDECREF(queued);
        goto done;
    }
    PyTuple_SET_ITEM(queued, 0, Py_NewRef(id));
    PyTuple_SET_ITEM(queued, 1, now);
    PyTuple_SET_ITEM(queued, 2, Py_NewRef(self->schema));
    PyTuple_SET_ITEM(queued, 3, Py_NewRef(name));
    PyTuple_SET_ITEM(queued, 4, body);
    body = NULL; /* the tuple owns it */
    PyTuple_SET_ITEM(queued, 5, Py_NewRef(Py_None));
    PyTuple_SET_ITEM(queued, 6, Py_NewRef(user_id));
    PyTuple_SET_ITEM(queued, 7, Py_NewRef(account_id));
    PyTuple_SET_ITEM(queued, 8, Py_NewRef(session_id));
    PyTuple_SET_ITEM(queued, 9, Py_NewRef(trace));
    PyTuple_SET_ITEM(queued, 10, Py_NewRef(span));
    PyTuple_SET_ITEM(queued, 11, Py_NewRef(flags));
    PyTuple_SET_ITEM(queued, 12, bytes);
    PyObject *accepted = PyObject_CallOneArg(submit, queued);
    Py_DECREF(queued);
    int ok = accepted == NULL ? -1 : PyObject_IsTrue(accepted);
    Py_XDECREF(accepted);
    if (ok >= 0)
        result = Py_NewRef(ok ? id : Py_None);

done:
    Py_XDECREF(identity);
    Py_XDECREF(body);
    Py_XDECREF(span_ids);
    Py_XDECREF(id);
    Py_DECREF(submit);
    Py_DECREF(opted_out);
    Py_DECREF(next_seq);
    if (result != NULL)
        return result;
    if (committed)
        return internal_error(self);
    if (PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return NULL;
        PyErr_Clear(); /* the Python method meets the same error and handles it its way */
    }
    return call_slow(self, args, nargsf, kwnames);
}

static PyMethodDef Recorder_methods[] = {
    {"milestone", (PyCFunction)(void (*)(void))Recorder_milestone,
     METH_FASTCALL | METH_KEYWORDS,
     "Client.milestone(), accelerated: the same arguments, the same result."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RecorderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cs_sdk._speedups.Recorder",
    .tp_doc = "The recording hot path of one Client, in C.",
    .tp_basicsize = sizeof(Recorder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Recorder_init,
    .tp_dealloc = (destructor)Recorder_dealloc,
    .tp_traverse = (traverseproc)Recorder_traverse,
    .tp_clear = (inquiry)Recorder_clear,
    .tp_methods = Recorder_methods,
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cs_sdk._speedups",
    .m_doc = "The recording hot path in C (optional; see _speedups.c).",
    .m_size = -1,
};

static int
intern(PyObject **slot, const char *text)
{
    *slot = PyUnicode_InternFromString(text);
    return *slot == NULL ? -1 : 0;
}

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (intern(&str_user_id, "user_id") < 0 || intern(&str_account_id, "account_id") < 0 ||
        intern(&str_session_id, "session_id") < 0 ||
        intern(&str_properties, "properties") < 0 ||
        intern(&str_timestamp, "timestamp") < 0 || intern(&str_submit, "_submit") < 0 ||
        intern(&str_opted_out, "_opted_out") < 0 || intern(&str_id_high, "_id_high") < 0 ||
        intern(&str_next_seq, "_next_seq") < 0 ||
        intern(&str_internal_error, "_internal_error") < 0 ||
        intern(&str_watched, "_watched") < 0)
        return NULL;
    zero = PyLong_FromLong(0);
    if (zero == NULL || PyType_Ready(&RecorderType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL)
        return NULL;
    if (PyModule_AddObjectRef(module, "Recorder", (PyObject *)&RecorderType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
