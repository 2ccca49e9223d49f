/*
 * cs_sdk._encoder_speedups: the export worker's protobuf writer of attribute and body values
 * in C.
 *
 *     encoded = encode_pairs(values, tag, depth)   # bytes, or None: Python writes this dict
 *
 * The KeyValues of a dict, each with `tag` (b"\x0a" inside a KeyValueList or a body,
 * b"\x32" for LogRecord.attributes), exactly as _Writer.pairs in _export/_protobuf_values.py
 * (the reference) writes them: string keys; values that are str, int (int64), float, bool,
 * None, bytes, and lists, tuples and dicts of those, nested up to FAST_DEPTH levels. Anything
 * else (a subclass such as an IntEnum or a StrEnum member, an int outside int64, a string
 * with lone surrogates, a non-str key, deeper nesting, another type) makes it return None
 * without judging, and the Python writer writes the whole dict. tests/test_encoder_speedups.py
 * checks both byte for byte on random nested values.
 *
 * Two passes: the first measures every value and keeps the payload size of each container
 * in pre-order; the second writes into one bytes object of the exact size, reading the sizes
 * back in the same order. No Python code runs in between (only exact built-in types are
 * read, and nothing but untracked memory is allocated), and the second pass still checks
 * that each container has the size and length the first one saw: anything that no longer
 * adds up hands the dict back to Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030B0000
#define PyFloat_Pack8(x, p, le) _PyFloat_Pack8((x), (unsigned char *)(p), (le)) /* 3.11+ */
#endif

/* Containers at this depth or deeper go to the Python writer, which writes a container at
 * depth 32 as its str(); validation caps nesting at 10, so nothing real gets here. `depth`
 * is counted as _Writer counts it (a body's own properties are at depth 1), so this writer
 * never meets a container that Python would turn into text. */
#define FAST_DEPTH 16

#define UNSUPPORTED -1 /* a value this writer does not take: Python writes the dict */
#define FAILED -2      /* a Python exception is set (memory) */

/* The payload sizes of the containers met by the first pass, in pre-order. */
typedef struct {
    Py_ssize_t *items;
    Py_ssize_t length;
    Py_ssize_t capacity;
    Py_ssize_t read;
    Py_ssize_t inline_items[32];
} Sizes;

static int
sizes_push(Sizes *sizes, Py_ssize_t value)
{
    if (sizes->length == sizes->capacity) {
        Py_ssize_t capacity = sizes->capacity * 2;
        Py_ssize_t *items;
        if (sizes->items == sizes->inline_items) {
            items = PyMem_Malloc(capacity * sizeof(Py_ssize_t));
            if (items != NULL)
                memcpy(items, sizes->inline_items, sizes->length * sizeof(Py_ssize_t));
        }
        else {
            items = PyMem_Realloc(sizes->items, capacity * sizeof(Py_ssize_t));
        }
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        sizes->items = items;
        sizes->capacity = capacity;
    }
    sizes->items[sizes->length++] = value;
    return 0;
}

/* Reserves a slot before a container's children are measured (pre-order). */
static Py_ssize_t
sizes_reserve(Sizes *sizes)
{
    if (sizes_push(sizes, 0) < 0)
        return -1;
    return sizes->length - 1;
}

static inline Py_ssize_t
varint_length(unsigned long long value)
{
    Py_ssize_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        n++;
    }
    return n;
}

static inline char *
write_varint(char *out, unsigned long long value)
{
    while (value >= 0x80) {
        *out++ = (char)((value & 0x7F) | 0x80);
        value >>= 7;
    }
    *out++ = (char)value;
    return out;
}

static Py_ssize_t measure_pairs(PyObject *values, int depth, Sizes *sizes);

/* The length of the AnyValue message of `value` (without tag or length prefix). */
static Py_ssize_t
measure_value(PyObject *value, int depth, Sizes *sizes)
{
    if (PyUnicode_CheckExact(value)) {
        Py_ssize_t length;
        if (PyUnicode_AsUTF8AndSize(value, &length) == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
                return FAILED;
            PyErr_Clear(); /* lone surrogates: Python writes U+FFFD */
            return UNSUPPORTED;
        }
        return 1 + varint_length((unsigned long long)length) + length;
    }
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow)
            return UNSUPPORTED; /* outside int64: written as its digits, by Python */
        if (number == -1 && PyErr_Occurred())
            return FAILED;
        /* Negatives: two's complement, 10 bytes. */
        return 1 + varint_length((unsigned long long)number);
    }
    if (PyFloat_CheckExact(value))
        return 9;
    if (PyBool_Check(value))
        return 2;
    if (value == Py_None)
        return 0; /* an empty AnyValue: present but unset */
    if (PyBytes_CheckExact(value)) {
        Py_ssize_t length = PyBytes_GET_SIZE(value);
        return 1 + varint_length((unsigned long long)length) + length;
    }
    if (depth >= FAST_DEPTH)
        return UNSUPPORTED;
    Py_ssize_t slot, payload = 0;
    if (PyDict_CheckExact(value)) {
        if ((slot = sizes_reserve(sizes)) < 0)
            return FAILED;
        payload = measure_pairs(value, depth + 1, sizes);
        if (payload < 0)
            return payload;
    }
    else if (PyList_CheckExact(value) || PyTuple_CheckExact(value)) {
        if ((slot = sizes_reserve(sizes)) < 0)
            return FAILED;
        PyObject **items = PySequence_Fast_ITEMS(value);
        Py_ssize_t count = PySequence_Fast_GET_SIZE(value);
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_ssize_t item = measure_value(items[i], depth + 1, sizes);
            if (item < 0)
                return item;
            payload += 1 + varint_length((unsigned long long)item) + item;
        }
    }
    else {
        return UNSUPPORTED;
    }
    sizes->items[slot] = payload;
    return 1 + varint_length((unsigned long long)payload) + payload;
}

/* The length of the KeyValues of `values`, each with its tag and length prefix. */
static Py_ssize_t
measure_pairs(PyObject *values, int depth, Sizes *sizes)
{
    Py_ssize_t pos = 0, total = 0;
    PyObject *key, *value;
    while (PyDict_Next(values, &pos, &key, &value)) {
        Py_ssize_t key_length;
        if (!PyUnicode_CheckExact(key))
            return UNSUPPORTED;
        if (PyUnicode_AsUTF8AndSize(key, &key_length) == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
                return FAILED;
            PyErr_Clear();
            return UNSUPPORTED;
        }
        Py_ssize_t any = measure_value(value, depth, sizes);
        if (any < 0)
            return any;
        /* KeyValue.key is left out when empty (proto3), the value's tag always written. */
        Py_ssize_t key_field =
            key_length ? 2 + varint_length((unsigned long long)key_length) + key_length : 1;
        Py_ssize_t size = key_field + varint_length((unsigned long long)any) + any;
        total += 1 + varint_length((unsigned long long)size) + size;
    }
    return total;
}

/* The writer: `out` moves forward, never past `end`; -1 when something no longer adds up
 * (the dict is then handed back to Python). */
typedef struct {
    char *out;
    const char *end;
    Sizes *sizes;
} Out;

static int write_pairs(Out *w, PyObject *values, char tag, int depth);

static inline int
room(Out *w, Py_ssize_t n)
{
    return n <= w->end - w->out;
}

/* The AnyValue length of `value` in the second pass: computed again for a scalar, read from
 * the first pass for a container (not consumed: write_value does that). -1: unknown. */
static Py_ssize_t
length_of(Out *w, PyObject *value)
{
    if (PyUnicode_CheckExact(value)) {
        Py_ssize_t length;
        if (PyUnicode_AsUTF8AndSize(value, &length) == NULL) {
            PyErr_Clear();
            return -1;
        }
        return 1 + varint_length((unsigned long long)length) + length;
    }
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow || (number == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return -1;
        }
        return 1 + varint_length((unsigned long long)number);
    }
    if (PyFloat_CheckExact(value))
        return 9;
    if (PyBool_Check(value))
        return 2;
    if (value == Py_None)
        return 0;
    if (PyBytes_CheckExact(value)) {
        Py_ssize_t length = PyBytes_GET_SIZE(value);
        return 1 + varint_length((unsigned long long)length) + length;
    }
    Sizes *sizes = w->sizes;
    if (sizes->read >= sizes->length)
        return -1;
    Py_ssize_t payload = sizes->items[sizes->read];
    return 1 + varint_length((unsigned long long)payload) + payload;
}

/* Writes the AnyValue message of `value` (no tag or length), `any` bytes long. */
static int
write_value(Out *w, PyObject *value, Py_ssize_t any, int depth)
{
    if (any < 0 || !room(w, any))
        return -1;
    char *out = w->out;
    const char *stop = out + any;
    if (PyUnicode_CheckExact(value)) {
        Py_ssize_t length;
        const char *data = PyUnicode_AsUTF8AndSize(value, &length);
        if (data == NULL) {
            PyErr_Clear();
            return -1;
        }
        *out++ = 0x0a;
        out = write_varint(out, (unsigned long long)length);
        if (out + length != stop)
            return -1;
        memcpy(out, data, length);
        w->out = out + length;
        return 0;
    }
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow || 1 + varint_length((unsigned long long)number) != any)
            return -1;
        *out++ = 0x18;
        w->out = write_varint(out, (unsigned long long)number);
        return 0;
    }
    if (PyFloat_CheckExact(value)) {
        if (any != 9)
            return -1;
        *out++ = 0x21;
        PyFloat_Pack8(PyFloat_AS_DOUBLE(value), out, 1); /* little-endian, NaN bits kept */
        w->out = out + 8;
        return 0;
    }
    if (PyBool_Check(value)) {
        if (any != 2)
            return -1;
        *out++ = 0x10;
        *out++ = (char)(value == Py_True);
        w->out = out;
        return 0;
    }
    if (value == Py_None)
        return any == 0 ? 0 : -1;
    if (PyBytes_CheckExact(value)) {
        Py_ssize_t length = PyBytes_GET_SIZE(value);
        *out++ = 0x3a;
        out = write_varint(out, (unsigned long long)length);
        if (out + length != stop)
            return -1;
        memcpy(out, PyBytes_AS_STRING(value), length);
        w->out = out + length;
        return 0;
    }
    Sizes *sizes = w->sizes;
    if (depth >= FAST_DEPTH || sizes->read >= sizes->length)
        return -1;
    Py_ssize_t payload = sizes->items[sizes->read++];
    if (1 + varint_length((unsigned long long)payload) + payload != any)
        return -1;
    if (PyDict_CheckExact(value)) {
        *out++ = 0x32;
        w->out = write_varint(out, (unsigned long long)payload);
        if (write_pairs(w, value, 0x0a, depth + 1) < 0)
            return -1;
    }
    else if (PyList_CheckExact(value) || PyTuple_CheckExact(value)) {
        *out++ = 0x2a;
        w->out = write_varint(out, (unsigned long long)payload);
        /* No Python code runs in between, so a list keeps its items; read afresh anyway. */
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(value); i++) {
            PyObject *item = PySequence_Fast_ITEMS(value)[i];
            Py_ssize_t item_any = length_of(w, item);
            if (item_any < 0 || !room(w, 1 + varint_length((unsigned long long)item_any)))
                return -1;
            *w->out++ = 0x0a;
            w->out = write_varint(w->out, (unsigned long long)item_any);
            if (write_value(w, item, item_any, depth + 1) < 0)
                return -1;
        }
    }
    else {
        return -1;
    }
    return w->out == stop ? 0 : -1;
}

/* Writes the KeyValues of `values`, each with `tag`. */
static int
write_pairs(Out *w, PyObject *values, char tag, int depth)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(values, &pos, &key, &value)) {
        Py_ssize_t key_length;
        if (!PyUnicode_CheckExact(key))
            return -1;
        const char *key_data = PyUnicode_AsUTF8AndSize(key, &key_length);
        if (key_data == NULL) {
            PyErr_Clear();
            return -1;
        }
        Py_ssize_t any = length_of(w, value);
        if (any < 0)
            return -1;
        Py_ssize_t key_field =
            key_length ? 2 + varint_length((unsigned long long)key_length) + key_length : 1;
        Py_ssize_t size = key_field + varint_length((unsigned long long)any) + any;
        if (!room(w, 1 + varint_length((unsigned long long)size) + size - any))
            return -1;
        char *out = w->out;
        *out++ = tag;
        out = write_varint(out, (unsigned long long)size);
        if (key_length) {
            *out++ = 0x0a;
            out = write_varint(out, (unsigned long long)key_length);
            memcpy(out, key_data, key_length);
            out += key_length;
        }
        *out++ = 0x12;
        w->out = write_varint(out, (unsigned long long)any);
        if (write_value(w, value, any, depth) < 0)
            return -1;
    }
    return 0;
}

/* encode_pairs(values, tag, depth) -> bytes | None: see the top of this file. */
static PyObject *
encode_pairs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_Check(args[1]) || PyBytes_GET_SIZE(args[1]) != 1 ||
        !PyLong_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "encode_pairs(values: dict, tag: bytes, depth: int)");
        return NULL;
    }
    PyObject *values = args[0];
    long start = PyLong_AsLong(args[2]);
    if (start == -1 && PyErr_Occurred())
        return NULL;
    if (!PyDict_CheckExact(values) || start < 0 || start >= FAST_DEPTH)
        Py_RETURN_NONE;
    int depth = (int)start;
    char tag = PyBytes_AS_STRING(args[1])[0];
    Sizes sizes = {.items = NULL, .length = 0, .capacity = 32, .read = 0};
    sizes.items = sizes.inline_items;
    PyObject *encoded = NULL;
    Py_ssize_t total = measure_pairs(values, depth, &sizes);
    if (total == FAILED)
        goto done;
    if (total == UNSUPPORTED) {
        encoded = Py_NewRef(Py_None);
        goto done;
    }
    encoded = PyBytes_FromStringAndSize(NULL, total);
    if (encoded == NULL)
        goto done;
    Out w = {.out = PyBytes_AS_STRING(encoded), .sizes = &sizes};
    w.end = w.out + total;
    if (write_pairs(&w, values, tag, depth) < 0 || w.out != w.end || sizes.read != sizes.length) {
        /* Something changed between the passes: the Python writer takes the dict. */
        PyErr_Clear();
        Py_SETREF(encoded, Py_NewRef(Py_None));
    }
done:
    if (sizes.items != sizes.inline_items)
        PyMem_Free(sizes.items);
    return encoded;
}

static inline char *
write_fixed(char *out, unsigned long long value, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        *out++ = (char)(value & 0xFF); /* little-endian */
        value >>= 8;
    }
    return out;
}

static inline char *
write_bytes(char *out, PyObject *bytes)
{
    memcpy(out, PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes));
    return out + PyBytes_GET_SIZE(bytes);
}

static inline Py_ssize_t
delimited_length(Py_ssize_t payload)
{
    return 1 + varint_length((unsigned long long)payload) + payload;
}

/* encode_log_record(time_unix_nano, severity, body, head, attributes, flags, trace_id,
 *                   span_id, event_name) -> bytes | None
 *
 * One whole LogRecord message, as ProtobufEncoder.encode_event writes it in Python (the
 * reference), in one call: fields in number order, time_unix_nano (fixed64; left out when
 * 0), `severity` (the encoded severity fields), the body (a dict: AnyValue{kvlist_value},
 * left out when empty or None), `head` (the encoded first attributes: event id, name and
 * schema), the KeyValues of `attributes`, flags (fixed32, left out when 0), trace and span
 * ids (bytes, left out when empty), observed_time_unix_nano (the same instant) and
 * `event_name` (the encoded field). None for anything else, or for a value the value writer
 * does not take: the Python method writes the record then. */
static PyObject *
encode_log_record(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 9 || !PyBytes_CheckExact(args[1]) || !PyBytes_CheckExact(args[3]) ||
        !PyDict_CheckExact(args[4]) || !PyBytes_CheckExact(args[6]) ||
        !PyBytes_CheckExact(args[7]) || !PyBytes_CheckExact(args[8])) {
        PyErr_SetString(PyExc_TypeError,
                        "encode_log_record(time_unix_nano: int, severity: bytes, body: dict | "
                        "None, head: bytes, attributes: dict, flags: int, trace_id: bytes, "
                        "span_id: bytes, event_name: bytes)");
        return NULL;
    }
    PyObject *body = args[2], *attributes = args[4];
    PyObject *severity = args[1], *head = args[3], *trace_id = args[6], *span_id = args[7];
    PyObject *event_name = args[8];
    if (!PyLong_CheckExact(args[0]) || !PyLong_CheckExact(args[5]))
        Py_RETURN_NONE;
    if (body == Py_None || (PyDict_CheckExact(body) && PyDict_GET_SIZE(body) == 0))
        body = NULL; /* no body field, as `if body:` in Python */
    else if (!PyDict_CheckExact(body))
        Py_RETURN_NONE;
    unsigned long long time = PyLong_AsUnsignedLongLong(args[0]);
    unsigned long long flags = PyLong_AsUnsignedLongLong(args[5]);
    if (PyErr_Occurred() || flags > 0xFFFFFFFFULL) {
        PyErr_Clear(); /* out of range: Python meets the same and reports it its way */
        Py_RETURN_NONE;
    }
    Sizes sizes = {.items = NULL, .length = 0, .capacity = 32, .read = 0};
    sizes.items = sizes.inline_items;
    PyObject *encoded = NULL;
    Py_ssize_t body_pairs = 0, attribute_pairs = 0;
    if (body != NULL)
        body_pairs = measure_pairs(body, 1, &sizes);
    if (body_pairs >= 0 && PyDict_GET_SIZE(attributes))
        attribute_pairs = measure_pairs(attributes, 0, &sizes);
    if (body_pairs == FAILED || attribute_pairs == FAILED)
        goto done;
    if (body_pairs == UNSUPPORTED || attribute_pairs == UNSUPPORTED) {
        encoded = Py_NewRef(Py_None);
        goto done;
    }
    Py_ssize_t body_value = delimited_length(body_pairs); /* AnyValue{kvlist_value} */
    Py_ssize_t total = PyBytes_GET_SIZE(severity) + PyBytes_GET_SIZE(head) + attribute_pairs +
                       PyBytes_GET_SIZE(event_name);
    if (time)
        total += 2 * 9;
    if (body != NULL)
        total += delimited_length(body_value);
    if (flags)
        total += 5;
    if (PyBytes_GET_SIZE(trace_id))
        total += delimited_length(PyBytes_GET_SIZE(trace_id));
    if (PyBytes_GET_SIZE(span_id))
        total += delimited_length(PyBytes_GET_SIZE(span_id));
    encoded = PyBytes_FromStringAndSize(NULL, total);
    if (encoded == NULL)
        goto done;
    char *out = PyBytes_AS_STRING(encoded);
    Out w = {.end = out + total, .sizes = &sizes};
    if (time) {
        *out++ = 0x09;
        out = write_fixed(out, time, 8);
    }
    out = write_bytes(out, severity);
    if (body != NULL) {
        *out++ = 0x2a;
        out = write_varint(out, (unsigned long long)body_value);
        *out++ = 0x32;
        w.out = write_varint(out, (unsigned long long)body_pairs);
        const char *stop = w.out + body_pairs;
        if (write_pairs(&w, body, 0x0a, 1) < 0 || w.out != stop)
            goto changed;
        out = w.out;
    }
    out = write_bytes(out, head);
    if (attribute_pairs) {
        w.out = out;
        const char *stop = w.out + attribute_pairs;
        if (write_pairs(&w, attributes, 0x32, 0) < 0 || w.out != stop)
            goto changed;
        out = w.out;
    }
    /* What is left has the sizes counted above, whatever the dicts did. */
    if (flags) {
        *out++ = 0x45;
        out = write_fixed(out, flags, 4);
    }
    if (PyBytes_GET_SIZE(trace_id)) {
        *out++ = 0x4a;
        out = write_varint(out, (unsigned long long)PyBytes_GET_SIZE(trace_id));
        out = write_bytes(out, trace_id);
    }
    if (PyBytes_GET_SIZE(span_id)) {
        *out++ = 0x52;
        out = write_varint(out, (unsigned long long)PyBytes_GET_SIZE(span_id));
        out = write_bytes(out, span_id);
    }
    if (time) {
        *out++ = 0x59;
        out = write_fixed(out, time, 8);
    }
    out = write_bytes(out, event_name);
    if (out == w.end && sizes.read == sizes.length)
        goto done;
changed:
    /* Something changed between the passes: the Python writer takes the record. */
    PyErr_Clear();
    Py_SETREF(encoded, Py_NewRef(Py_None));
done:
    if (sizes.items != sizes.inline_items)
        PyMem_Free(sizes.items);
    return encoded;
}

static PyMethodDef module_methods[] = {
    {"encode_pairs", (PyCFunction)(void (*)(void))encode_pairs, METH_FASTCALL,
     "encode_pairs(values, tag, depth) -> bytes | None: _Writer.pairs for dicts of scalars, lists, "
     "tuples and dicts of them."},
    {"encode_log_record", (PyCFunction)(void (*)(void))encode_log_record, METH_FASTCALL,
     "encode_log_record(...) -> bytes | None: ProtobufEncoder.encode_event in one call."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef encoder_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cs_sdk._encoder_speedups",
    .m_doc = "The export worker's protobuf value writer in C (optional; see the source).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__encoder_speedups(void)
{
    return PyModule_Create(&encoder_module);
}
