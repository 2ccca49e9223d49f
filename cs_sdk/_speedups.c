/*
 * cs_sdk._speedups: the recording hot path of the client in C.
 *
 * Optional: without a compiler, or on another Python implementation, the package runs the
 * same logic in pure Python (Client.milestone in _client.py, outcome/feedback/track in
 * _client_recording.py: the reference). This file only takes the common cases: a valid name,
 * properties that are an exact dict of scalars, lists/tuples and small nested dicts of those,
 * values _values.py converts by their exact type (datetime, Decimal, UUID...), ids that are
 * strings, ints or UUIDs, a timestamp in seconds or none, a declared typed event. Anything
 * else, including every invalid input, goes to the Python method with the same arguments, so
 * errors, drops, counters and strict mode behave exactly as there; each such hand-over is
 * counted by its reason in the client's stats (stats()["debug"]["fallbacks"]), so a fast
 * path that stops applying is seen, not only felt. The fast path has no side effect before
 * its commit point (the sequence number), so handing over before it is always safe.
 *
 * What it builds is what Client._emit builds: the QueuedEvent tuple of _record.py, handed to
 * client._submit (when that is the default pipeline's EventQueue.submit, queue_submit() does
 * its accepted case here, without the Python frame). Per-client state that changes at run time (_submit, _opted_out, _id_high,
 * _next_seq, _watched) is read from the client's __dict__ on every call, so
 * testing.capture(), opt_out() and a fork are seen at once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_slots.h"
#ifndef Py_ALWAYS_INLINE /* 3.10: the compiler decides */
#define Py_ALWAYS_INLINE
#endif
#if PY_VERSION_HEX < 0x030B0000
#include <longintrepr.h> /* 3.10: the int's digits (stamp_of); Python.h has it from 3.11 */
#endif
#include <math.h>
#include <string.h>
#include <time.h>

enum { SIZE_CACHE = 64 };   /* Recorder.sizes_made */
enum { LAYOUT_CACHE = 64 }; /* Recorder.layouts */
enum { LAYOUT_PROBE = 8 };  /* layout_of: the slots a layout may sit in from its home */
/* Recorder.attribute_keys: feedback's by which of score, comment and area it has (0-7), then
 * outcome's by which of value and unit (8 + 1-3). */
enum { ATTRIBUTE_KEYS = 12, OUTCOME_KEYS = 8 };

/* The pipeline queue's attributes queue_submit() reads and writes (see there). */
enum {
    Q_ITEMS, Q_CLOSED, Q_WAKE, Q_HELD, Q_MAX_SIZE, Q_BYTES_IN, Q_BYTES_OUT, Q_MAX_BYTES,
    Q_BATCH_SIZE, Q_SLOTS
};
#define NAME_CACHE 16
/* The client's attributes a recording call reads, in client_attribute()'s order. */
enum { CLIENT_SUBMIT, CLIENT_OPTED_OUT, CLIENT_ID_HIGH, CLIENT_NEXT_SEQ, CLIENT_WATCHED,
       CLIENT_ATTRIBUTES };

typedef struct {
    PyObject_HEAD
    PyObject *client;       /* the Client */
    PyObject *client_dict;  /* its __dict__ */
    PyObject *slow;         /* Client.milestone, the pure-Python reference (unbound) */
    PyObject *slow_outcome; /* ... and Client.outcome, .feedback, .track */
    PyObject *slow_feedback;
    PyObject *slow_track;
    PyObject *schema; /* the milestone SchemaRef */
    PyObject *outcome_schema;
    PyObject *feedback_schema;
    PyObject *event_type;      /* cs_sdk.Event, or the name of its module until it is loaded */
    PyObject *feedback_scores; /* events._builtin.FEEDBACK_SCORES: kind -> (low, high) | None */
    PyObject *attribute_names; /* (kind, score, comment, prompt id, area, value, unit) keys */
    PyObject *fallbacks;       /* {reason: count}, the client's Stats.fallbacks */
    PyObject *identity_var;    /* ContextVar[Identity] */
    PyObject *otel_context;    /* () -> Context, or the ContextVar holding it; falsy when empty */
    PyObject *span_ids;        /* (context) -> (trace_id, span_id, trace_flags) */
    PyObject *time_ns;         /* time.time_ns */
    PyObject *normalize_id;    /* _ids.normalize_id: an int or a UUID as its string */
    PyObject *converters;      /* _values._BY_TYPE: exact type -> conversion (datetime...) */
    PyObject *next_seq;        /* the client's _next_seq as it was at init ... */
    PyObject *sequence;        /* ... and the itertools.count behind it (None: call next_seq) */
    PyObject *queue_submit;    /* EventQueue.submit (the function): see queue_submit() */
    PyObject *deque_append;    /* collections.deque.append */
    PyObject *id_high;         /* the client's _id_high last seen, and ... */
    char high_hex[16];         /* ... the first 16 hex digits of every event id it makes, */
    PyObject *prefix;          /* ... and those digits as a str (the layouts' first item) */
    PyObject *context;         /* the last packed event's context tuple (shared_context) */
    /* The layouts of packed events made so far (_record.py, the packed form: the id prefix and the
     * property keys, shared by every queued event of that shape), by a hash of the keys
     * modulo LAYOUT_CACHE, in one of the LAYOUT_PROBE slots from there: see layout_of(). */
    PyObject *layouts[LAYOUT_CACHE];
    unsigned layout_next; /* layout_of: which slot of a full window is replaced next */
    /* The same layouts by the identity of their prefix and keys (layout_of's first look). */
    PyObject *layouts_seen[LAYOUT_CACHE];
    /* The attribute keys of packed feedback and outcomes (_record.py, the packed form), one
     * tuple per combination of the attributes present, made when first needed (see
     * attribute_keys()). */
    PyObject *attribute_keys[ATTRIBUTE_KEYS];
    /* Queued size estimates made so far, by value modulo SIZE_CACHE: events of one kind
     * mostly share a handful of them, and an int past 256 is a fresh object of 32 bytes
     * that each queued event would hold (queued_size()). Ints are immutable: sharing one
     * changes nothing but the memory. */
    PyObject *sizes_made[SIZE_CACHE];
    /* Event names that obeyed the name rule, by the identity of the str (plain_name's
     * answer for them does not change: a str is immutable and max_name is the client's). */
    PyObject *names_ok[NAME_CACHE];
    /* The client's attributes the recording calls read (client_attribute), as last looked up:
     * borrowed from client_dict, valid while its version is client_version. */
    PyObject *client_seen[CLIENT_ATTRIBUTES];
    unsigned long long client_version; /* 0: never looked up */
    /* The ints last read from the queue's slots (queue_int), held, and their values: an
     * int is immutable, so the same object in a slot is the same number. */
    PyObject *ints_seen[Q_SLOTS];
    long long ints_value[Q_SLOTS];
    Py_ssize_t max_name;
    Py_ssize_t max_id; /* the id rule's bound (_ids.py); anything else goes to Python */
    Py_ssize_t max_string;
    Py_ssize_t max_properties;
    Py_ssize_t max_items; /* items of a nested list (_validate.py) */
    int max_depth;        /* nesting of property values (_validate.MAX_DEPTH) */
    long long record_bytes;
    long long value_bytes;
    long long typed_bytes; /* a typed event's instance beyond its values (_validate.py) */
    long long attributes_bytes; /* an attributes dict (feedback, outcome), _validate.py */
} Recorder;

enum { ATTR_KIND, ATTR_SCORE, ATTR_COMMENT, ATTR_PROMPT_ID, ATTR_AREA, ATTR_VALUE, ATTR_UNIT,
       ATTR_COUNT };

static PyObject *str_user_id, *str_account_id, *str_session_id, *str_properties, *str_timestamp;
static PyObject *str_value, *str_unit, *str_score, *str_comment, *str_prompt_id, *str_area;
static PyObject *str_submit, *str_opted_out, *str_id_high, *str_next_seq, *str_internal_error;
static PyObject *str_watched, *str_cs_schema, *str_fields_set, *str_extra, *str_private;
static PyObject *str_plain_fields;
/* The attributes of the pipeline's EventQueue (_pipeline/_queue.py) queue_submit() reads. */
static PyObject *str_items, *str_held, *str_bytes_in, *str_bytes_out, *str_closed;
static PyObject *str_max_size, *str_max_bytes, *str_batch_size, *str_wake, *str_flag, *str_set,
    *str_is_set;
static PyObject *zero;
static PyObject *sixty_four; /* the stamp's shift (unpack) */
static PyObject *time_time_ns; /* time.time_ns: read from the clock here (now_ns) */

/* Why a call went to the Python method (the keys of stats()["debug"]["fallbacks"]). */
static PyObject *why_arguments;    /* positional arguments other than the one expected */
static PyObject *why_keyword;      /* a keyword this file does not know (keyword_unknown) */
static PyObject *why_invalid;      /* a name, id, score... the Python method refuses */
static PyObject *why_timestamp;    /* a datetime timestamp */
static PyObject *why_properties;   /* properties that are not an exact dict */
static PyObject *why_value;        /* a value _values.py converts, or a subclass */
static PyObject *why_deep;         /* nested deeper than the validator allows */
static PyObject *why_watched;      /* a milestone a prompt waits for */
static PyObject *why_prompt;       /* feedback answering a prompt */
static PyObject *why_long_comment; /* a comment to cut (_feedback_text.py) */
static PyObject *why_opted_out;    /* the user opted out: the Python method counts it */
static PyObject *why_state;        /* the client's attributes are not what this file expects */
static PyObject *why_error;        /* an exception before the commit point */

static int
Recorder_traverse(Recorder *self, visitproc visit, void *arg)
{
    Py_VISIT(self->client);
    Py_VISIT(self->client_dict);
    Py_VISIT(self->slow);
    Py_VISIT(self->slow_outcome);
    Py_VISIT(self->slow_feedback);
    Py_VISIT(self->slow_track);
    Py_VISIT(self->schema);
    Py_VISIT(self->outcome_schema);
    Py_VISIT(self->feedback_schema);
    Py_VISIT(self->event_type);
    Py_VISIT(self->feedback_scores);
    Py_VISIT(self->attribute_names);
    Py_VISIT(self->fallbacks);
    Py_VISIT(self->identity_var);
    Py_VISIT(self->otel_context);
    Py_VISIT(self->span_ids);
    Py_VISIT(self->time_ns);
    Py_VISIT(self->normalize_id);
    Py_VISIT(self->converters);
    Py_VISIT(self->next_seq);
    Py_VISIT(self->sequence);
    Py_VISIT(self->queue_submit);
    Py_VISIT(self->deque_append);
    Py_VISIT(self->prefix);
    Py_VISIT(self->context);
    for (int i = 0; i < LAYOUT_CACHE; i++) {
        Py_VISIT(self->layouts[i]);
        Py_VISIT(self->layouts_seen[i]);
    }
    for (int i = 0; i < ATTRIBUTE_KEYS; i++)
        Py_VISIT(self->attribute_keys[i]);
    for (int i = 0; i < NAME_CACHE; i++)
        Py_VISIT(self->names_ok[i]);
    return 0;
}

static int
Recorder_clear(Recorder *self)
{
    Py_CLEAR(self->client);
    Py_CLEAR(self->client_dict);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->slow_outcome);
    Py_CLEAR(self->slow_feedback);
    Py_CLEAR(self->slow_track);
    Py_CLEAR(self->schema);
    Py_CLEAR(self->outcome_schema);
    Py_CLEAR(self->feedback_schema);
    Py_CLEAR(self->event_type);
    Py_CLEAR(self->feedback_scores);
    Py_CLEAR(self->attribute_names);
    Py_CLEAR(self->fallbacks);
    Py_CLEAR(self->identity_var);
    Py_CLEAR(self->otel_context);
    Py_CLEAR(self->span_ids);
    Py_CLEAR(self->time_ns);
    Py_CLEAR(self->normalize_id);
    Py_CLEAR(self->converters);
    Py_CLEAR(self->next_seq);
    Py_CLEAR(self->sequence);
    Py_CLEAR(self->queue_submit);
    Py_CLEAR(self->deque_append);
    Py_CLEAR(self->id_high);
    Py_CLEAR(self->prefix);
    Py_CLEAR(self->context);
    for (int i = 0; i < SIZE_CACHE; i++)
        Py_CLEAR(self->sizes_made[i]);
    for (int i = 0; i < LAYOUT_CACHE; i++) {
        Py_CLEAR(self->layouts[i]);
        Py_CLEAR(self->layouts_seen[i]);
    }
    for (int i = 0; i < ATTRIBUTE_KEYS; i++)
        Py_CLEAR(self->attribute_keys[i]);
    for (int i = 0; i < NAME_CACHE; i++)
        Py_CLEAR(self->names_ok[i]);
    for (int i = 0; i < Q_SLOTS; i++)
        Py_CLEAR(self->ints_seen[i]);
    self->client_version = 0; /* client_seen borrowed from client_dict, cleared above */
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
    PyObject *client, *slow, *slow_outcome, *slow_feedback, *slow_track, *schema;
    PyObject *outcome_schema, *feedback_schema, *event_type, *feedback_scores;
    PyObject *attribute_names, *fallbacks, *identity_var, *otel_context, *span_ids, *time_ns;
    PyObject *normalize_id, *converters, *next_seq, *sequence, *queue_submit, *deque_append;
    Py_ssize_t max_name, max_id, max_string, max_properties, max_items;
    int max_depth;
    long long record_bytes, value_bytes, typed_bytes, attributes_bytes;
    static char *kwlist[] = {
        "client", "slow", "slow_outcome", "slow_feedback", "slow_track", "schema",
        "outcome_schema", "feedback_schema", "event_type", "feedback_scores",
        "attribute_names", "fallbacks", "identity_var", "otel_context", "span_ids", "time_ns",
        "normalize_id", "converters", "next_seq", "sequence", "queue_submit", "deque_append",
        "max_name", "max_id", "max_string", "max_properties", "max_items", "max_depth",
        "record_bytes", "value_bytes", "typed_bytes", "attributes_bytes", NULL};
    if (!PyArg_ParseTupleAndKeywords(
            args, kwds, "$OOOOOOOOOOOOOOOOOOOOOOnnnnniLLLL", kwlist, &client, &slow,
            &slow_outcome, &slow_feedback, &slow_track, &schema, &outcome_schema,
            &feedback_schema, &event_type, &feedback_scores, &attribute_names, &fallbacks,
            &identity_var, &otel_context, &span_ids, &time_ns, &normalize_id, &converters,
            &next_seq, &sequence, &queue_submit, &deque_append, &max_name, &max_id,
            &max_string, &max_properties, &max_items, &max_depth, &record_bytes, &value_bytes,
            &typed_bytes, &attributes_bytes))
        return -1;
    if (!PyContextVar_CheckExact(identity_var)) {
        PyErr_SetString(PyExc_TypeError, "identity_var must be a ContextVar");
        return -1;
    }
    if (!(PyType_Check(event_type) || PyUnicode_CheckExact(event_type)) ||
        !PyDict_CheckExact(feedback_scores) ||
        !PyDict_CheckExact(converters) ||
        !PyDict_CheckExact(fallbacks) || !PyTuple_CheckExact(attribute_names) ||
        PyTuple_GET_SIZE(attribute_names) != ATTR_COUNT || !PyTuple_Check(schema) ||
        !PyTuple_Check(outcome_schema) || !PyTuple_Check(feedback_schema) ||
        !(sequence == Py_None || PyIter_Check(sequence)) ||
        !Py_IS_TYPE(deque_append, &PyMethodDescr_Type)) {
        PyErr_SetString(PyExc_TypeError, "Recorder: an argument of the wrong type");
        return -1;
    }
    PyObject *client_dict = PyObject_GenericGetDict(client, NULL);
    if (client_dict == NULL)
        return -1;
    Recorder_clear(self);
    self->client = Py_NewRef(client);
    self->client_dict = client_dict;
    self->client_version = 0; /* client_seen: looked up at the first call */
    self->slow = Py_NewRef(slow);
    self->slow_outcome = Py_NewRef(slow_outcome);
    self->slow_feedback = Py_NewRef(slow_feedback);
    self->slow_track = Py_NewRef(slow_track);
    self->schema = Py_NewRef(schema);
    self->outcome_schema = Py_NewRef(outcome_schema);
    self->feedback_schema = Py_NewRef(feedback_schema);
    self->event_type = Py_NewRef(event_type);
    self->feedback_scores = Py_NewRef(feedback_scores);
    self->attribute_names = Py_NewRef(attribute_names);
    self->fallbacks = Py_NewRef(fallbacks);
    self->identity_var = Py_NewRef(identity_var);
    self->otel_context = Py_NewRef(otel_context);
    self->span_ids = Py_NewRef(span_ids);
    self->time_ns = Py_NewRef(time_ns);
    self->normalize_id = Py_NewRef(normalize_id);
    self->converters = Py_NewRef(converters);
    self->next_seq = Py_NewRef(next_seq);
    self->sequence = Py_NewRef(sequence);
    self->queue_submit = Py_NewRef(queue_submit);
    self->deque_append = Py_NewRef(deque_append);
    self->max_name = max_name;
    self->max_id = max_id;
    self->max_string = max_string;
    self->max_properties = max_properties;
    self->max_items = max_items;
    self->max_depth = max_depth;
    self->record_bytes = record_bytes;
    self->value_bytes = value_bytes;
    self->typed_bytes = typed_bytes;
    self->attributes_bytes = attributes_bytes;
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

/* One more hand-over for `reason` in the client's books. Best effort: a count that cannot be
 * made (out of memory) is not worth failing the call for. */
static void
count_fallback(Recorder *self, PyObject *reason)
{
    PyObject *count = PyDict_GetItemWithError(self->fallbacks, reason); /* borrowed */
    long before = count != NULL && PyLong_CheckExact(count) ? PyLong_AsLong(count) : 0;
    PyObject *bumped = before < 0 ? NULL : PyLong_FromLong(before + 1);
    if (bumped != NULL) {
        (void)PyDict_SetItem(self->fallbacks, reason, bumped);
        Py_DECREF(bumped);
    }
    PyErr_Clear();
}

/* The pure-Python method `slow` with the caller's arguments, exactly as they came, after
 * counting why (`reason`). */
static PyObject *
call_slow(Recorder *self, PyObject *slow, PyObject *reason, PyObject *const *args,
          size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    Py_ssize_t total = nargs + nkw;
    PyObject *small[16];
    PyObject **stack = small;
    if (reason != NULL)
        count_fallback(self, reason);
    if (total + 1 > 16) {
        stack = PyMem_Malloc((total + 1) * sizeof(PyObject *));
        if (stack == NULL)
            return PyErr_NoMemory();
    }
    stack[0] = self->client;
    for (Py_ssize_t i = 0; i < total; i++)
        stack[i + 1] = args[i];
    PyObject *result = PyObject_Vectorcall(slow, stack, nargs + 1, kwnames);
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

/* The keyword arguments of a call into `slots`, by the position of their name in `names`
 * (NULL-terminated). 0 when a name is not there (the Python method decides: a TypeError, or
 * a keyword this file was not taught). `seen`: the keyword names of recent call sites and
 * where each went, by the identity of the tuple (a call site passes the same tuple every
 * time: one compare instead of matching each name, ~80 instructions of a call, callgrind;
 * several entries, so that call sites taking turns keep theirs). */
#define SEEN_KEYWORDS 16
#define SEEN_SITES 8
typedef struct {
    PyObject *kwnames; /* held: a tuple, immutable */
    signed char at[SEEN_KEYWORDS];
} SeenKeywords;

static int
parse_keywords(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
               PyObject **const names[], PyObject **slots, SeenKeywords sites[SEEN_SITES])
{
    if (kwnames == NULL)
        return 1;
    Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
    SeenKeywords *seen = &sites[((size_t)kwnames >> 4) % SEEN_SITES];
    if (kwnames == seen->kwnames) {
        for (Py_ssize_t i = 0; i < nkw; i++)
            slots[seen->at[i]] = args[nargs + i];
        return 1;
    }
    signed char at[SEEN_KEYWORDS];
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *kw = PyTuple_GET_ITEM(kwnames, i);
        int found = -1;
        /* Keyword names from call sites are interned: identity is the usual match. */
        for (int k = 0; names[k] != NULL && found < 0; k++)
            if (kw == *names[k])
                found = k;
        for (int k = 0; names[k] != NULL && found < 0; k++) /* built at run time: `**kwargs` */
            if (PyUnicode_Check(kw) && PyUnicode_Compare(kw, *names[k]) == 0)
                found = k;
        if (found < 0 || slots[found] != NULL) {
            PyErr_Clear();
            return 0;
        }
        slots[found] = args[nargs + i];
        if (i < SEEN_KEYWORDS)
            at[i] = (signed char)found;
    }
    if (nkw <= SEEN_KEYWORDS) { /* every name found once: this mapping holds for the tuple */
        memcpy(seen->at, at, (size_t)nkw);
        Py_XSETREF(seen->kwnames, Py_NewRef(kwnames));
    }
    return 1;
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

/* `check_id` of _validate.py (prompt ids, areas, units): None/absent, or a non-empty exact
 * str of at most `max_name` characters. */
static inline int
plain_short(PyObject *value, Py_ssize_t max_name)
{
    if (value == NULL || value == Py_None)
        return 1;
    return PyUnicode_CheckExact(value) && PyUnicode_GET_LENGTH(value) > 0 &&
           PyUnicode_GET_LENGTH(value) <= max_name;
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

/* plain_name for an event name, remembered by the str's identity: the scan costs ~150
 * instructions of a call (callgrind), and applications record a handful of names. The
 * cache holds the names it has seen pass. */
static int
known_name(Recorder *self, PyObject *name)
{
    size_t slot = ((size_t)name >> 4) % NAME_CACHE;
    if (self->names_ok[slot] == name)
        return 1;
    if (!plain_name(name, self->max_name))
        return 0;
    Py_XSETREF(self->names_ok[slot], Py_NewRef(name));
    return 1;
}

/* -- property values: _check_mapping / _check_nested / _check_item of _validate.py -------- */

/* Each check below returns 1 (accepted: a new reference in *out, the estimate added to
 * *size), 0 (the Python validator has to look: *why says why, nothing set) or -1 (an
 * exception, out of memory). They mirror the Python functions line by line, depth included,
 * and only take exact builtin types: a subclass, a value _values.py converts or one that
 * breaks a rule goes to Python, which converts, drops or raises. No Python code runs while a
 * value is checked except finalizers during an allocation, so copies are made first and the
 * copies checked: nothing the caller (or a finalizer) changes afterwards reaches the queue. */

#define PACKED_DICT_MAX 32 /* the most entries a property's dict is packed with (check_packed) */
static int check_nested(Recorder *, PyObject *, int, int, PyObject **, long long *, PyObject **);
static int check_packed(Recorder *, PyObject *, int, int, PyObject **, long long *, PyObject **);

/* The size rule of _validate.py (its SIZES, in that order): what each kind of value holds in
 * memory, counted against max_queue_bytes. Set once per process by set_sizes(), which
 * _accelerated.py calls with _validate.SIZES when it loads this module, before any Recorder. */
static struct {
    long long str, wide_str, integer, floating, bytes, list, item, value;
    long long dict_header, dict_entry, empty_dict;
    int set; /* until set_sizes(), every call goes to Python (client_state): no estimate of 0 */
} sizes;

/* dict_bytes of _validate.py: a dict of `keys` keys as a copy builds it. */
static long long
dict_bytes(Py_ssize_t keys)
{
    if (keys == 0)
        return sizes.empty_dict;
    long long slots = 8;
    while (slots * 2 / 3 < keys)
        slots *= 2;
    long long index = slots <= 128 ? 1 : slots <= 32768 ? 2 : 4;
    return sizes.dict_header + slots * index + (slots * 2 / 3) * sizes.dict_entry;
}

/* str_bytes of _validate.py: an exact str, by the width CPython stores it in. */
static inline long long
str_bytes(PyObject *value)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    if (PyUnicode_IS_ASCII(value))
        return sizes.str + length;
    return sizes.wide_str + (long long)(length + 1) * PyUnicode_KIND(value);
}

/* A scalar of a mapping's or a list's value: 1 kept (with in *bytes its estimate, as
 * estimated_bytes gives it), 0 not a scalar, -1 a scalar that breaks a rule (*why set). */
static inline int
check_scalar(Recorder *self, PyObject *value, long long *bytes, PyObject **why)
{
    if (PyUnicode_CheckExact(value)) {
        if (PyUnicode_GET_LENGTH(value) > self->max_string) {
            *why = why_invalid;
            return -1;
        }
        *bytes = str_bytes(value);
        return 1;
    }
    *bytes = 0;
    if (PyLong_CheckExact(value)) {
        int overflow;
        (void)PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow) {
            *why = why_invalid; /* outside int64 */
            return -1;
        }
        *bytes = sizes.integer;
        return 1;
    }
    if (PyFloat_CheckExact(value)) {
        if (!isfinite(PyFloat_AS_DOUBLE(value))) {
            *why = why_invalid;
            return -1;
        }
        *bytes = sizes.floating;
        return 1;
    }
    return value == Py_None || PyBool_Check(value);
}

/* One entry of a mapping at `depth`, as _check_mapping checks it: 1 kept, with in *checked a
 * new value to store in its place (NULL: the value stays as it is) and in *total its estimate
 * (`keys_counted`: plus the characters of the key, as estimated_bytes does for a nested
 * dict); 0 the Python validator has to look (*why set); -1 an exception. `pack`: a dict
 * value comes back packed (check_packed), as a property's own value is queued. */
static int
check_entry(Recorder *self, PyObject *key, PyObject *value, int depth, int keys_counted,
            int pack, PyObject **checked, long long *total, int *holds_tracked, PyObject **why)
{
    *checked = NULL;
    if (!PyUnicode_CheckExact(key)) {
        *why = PyUnicode_Check(key) ? why_value : why_invalid;
        return 0;
    }
    Py_ssize_t key_length = PyUnicode_GET_LENGTH(key);
    if (key_length == 0 || key_length > self->max_name) {
        *why = why_invalid;
        return 0;
    }
    if (keys_counted)
        *total += key_length;
    long long bytes;
    int scalar = check_scalar(self, value, &bytes, why);
    if (scalar < 0)
        return 0;
    if (scalar) { /* an exact str, int, float, bool or None: never followed by the collector */
        *total += bytes;
        return 1;
    }
    int ok = check_nested(self, value, depth, pack, checked, total, why);
    if (ok > 0)
        *holds_tracked |= PyObject_GC_IsTracked(*checked);
    return ok;
}

/* _check_mapping: a validated copy of an exact dict at `depth`, and in *size the estimate the
 * Python validator gives it there: the copy's table and each value's estimate. `pack`: the
 * copy packed instead, where check_packed takes it (a property's own dict). */
static int
check_mapping(Recorder *self, PyObject *source, int depth, int keys_counted, int pack,
              PyObject **out, long long *size, PyObject **why)
{
    if (pack && PyDict_GET_SIZE(source) > 0 && PyDict_GET_SIZE(source) <= PACKED_DICT_MAX)
        return check_packed(self, source, depth, keys_counted, out, size, why);
    PyObject *copy = PyDict_Copy(source);
    if (copy == NULL)
        return -1;
    long long total = dict_bytes(PyDict_GET_SIZE(copy));
    int holds_tracked = 0; /* a value the garbage collector follows */
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(copy, &pos, &key, &value)) {
        PyObject *checked;
        int ok = check_entry(self, key, value, depth, keys_counted, 0, &checked, &total,
                             &holds_tracked, why);
        if (ok == 0)
            goto handover;
        if (ok < 0)
            goto error;
        if (checked == NULL)
            continue;
        /* Replacing the value of a key that is there does not resize the dict: allowed while
         * iterating, as in the Python validator. */
        int set = PyDict_SetItem(copy, key, checked);
        Py_DECREF(checked);
        if (set < 0)
            goto error;
    }
    /* CPython's own rule for dicts: one that holds nothing the collector follows can be
     * left out of its walks (a dict built item by item starts so), and the dict itself
     * goes back in if such a value is ever stored in it (a before_send hook). PyDict_Copy
     * keeps the source's tracking instead, so every queued event's properties would cost
     * each collection pass a visit (the caller's thread pays them during a burst). A list of
     * scalars is untracked by check_nested (its decision is written there). */
    if (!holds_tracked && PyObject_GC_IsTracked(copy))
        PyObject_GC_UnTrack(copy);
    *out = copy;
    *size += total;
    return 1;
handover:
    Py_DECREF(copy);
    return 0;
error:
    Py_DECREF(copy);
    return -1;
}

/* The packed form's places (_record.py, the packed form): the stamp (time and sequence
 * number) in slot 0, the attribute keys in slot 5, the context tuple in slot 7; the first
 * five values in slots 1 and 8-11 (the plain form's time, account, session, trace and span
 * ids, which the stamp and the context hold), the rest after the 13 fields. */
enum { PACKED_ATTRIBUTES = 5, PACKED_CONTEXT = 7, PACKED_IN_FIELDS = 5 };

static inline Py_ssize_t
packed_length(Py_ssize_t values)
{
    return 13 + (values > PACKED_IN_FIELDS ? values - PACKED_IN_FIELDS : 0);
}

static inline Py_ssize_t
packed_at(Py_ssize_t value)
{
    return value == 0 ? 1 : value < PACKED_IN_FIELDS ? 7 + value : 8 + value;
}

/* 1 with a value slot of the packed form (packed_at) that `at` is. */
static inline int
packed_value_slot(Py_ssize_t at)
{
    return at == 1 || (at >= 8 && at != 12);
}

/* The layout of a packed event (_record.py, the packed form): (id prefix, key, key...), one tuple
 * shared by every queued event of a client with these keys in this order, in place of the
 * keys themselves in each queued tuple. Decision (issue 15, held memory): 8 properties are 8
 * slots fewer per queued event (64 bytes of 429 on 3.11, bench/queued_memory.py), and the
 * prefix rides along, so that the queued id can be the sequence number (emit_plain) without
 * the worker having to know the client. Cached by a hash of the keys (a str's hash is
 * cached in it; a dict's keys have theirs already), in the first free of the LAYOUT_PROBE
 * slots from the hash's own (open addressing, never a removal, so a layout once in stays
 * findable until it is replaced). Decision: not one entry per slot, where two shapes whose
 * hashes meet (1 in 64 for each pair, by the process's hash seed) took turns replacing each
 * other and a shape's events stopped sharing its layout; now it takes LAYOUT_PROBE + 1
 * layouts in one window. When the window is full a new layout replaces one of its slots, in
 * turn (layout_next): bounded, and an application whose keys vary without end pays a layout
 * per event (16 bytes more than the pairs did), never an unbounded cache. A key
 * matches by identity, or by equality for a str built afresh for each call (a parsed JSON
 * body's keys): the body the worker rebuilds is equal either way. `keys`: exact strs (the
 * callers check); `prefix`: the str of emit_plain, or None until the first event (queued_packed
 * then asks again with it), or Ellipsis for a property's dict (check_packed). A new
 * reference, NULL with an exception. */
static PyObject *
layout_of(Recorder *self, PyObject *prefix, PyObject *const *keys, Py_ssize_t count)
{
    /* By identity first, the objects' addresses hashed: a call site's keys are the same
     * objects at every call (interned literals), and this saves hashing their text on the
     * caller's thread, also when the shapes of several call sites take turns. */
    Py_uhash_t seen = (Py_uhash_t)prefix >> 4;
    for (Py_ssize_t i = 0; i < count; i++)
        seen = (seen ^ ((Py_uhash_t)keys[i] >> 4)) * 1000003u;
    PyObject **seen_slot = &self->layouts_seen[(seen ^ (seen >> 17)) % LAYOUT_CACHE];
    PyObject *known = *seen_slot;
    if (known != NULL && PyTuple_GET_SIZE(known) == count + 1 &&
        PyTuple_GET_ITEM(known, 0) == prefix) {
        Py_ssize_t i = 0;
        while (i < count && PyTuple_GET_ITEM(known, i + 1) == keys[i])
            i++;
        if (i == count)
            return Py_NewRef(known);
    }
    Py_uhash_t hash = (Py_uhash_t)count + 0x345678u;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_hash_t one = PyObject_Hash(keys[i]);
        if (one == -1)
            return NULL;
        hash = (hash ^ (Py_uhash_t)one) * 1000003u;
    }
    Py_ssize_t home = (Py_ssize_t)((hash ^ (hash >> 17)) % LAYOUT_CACHE);
    PyObject **slot = NULL;
    for (Py_ssize_t probe = 0; probe < LAYOUT_PROBE; probe++) {
        PyObject **at = &self->layouts[(home + probe) % LAYOUT_CACHE];
        PyObject *cached = *at;
        if (cached == NULL) { /* the end of this hash's run: not made yet */
            slot = at;
            break;
        }
        if (PyTuple_GET_SIZE(cached) != count + 1 || PyTuple_GET_ITEM(cached, 0) != prefix)
            continue;
        Py_ssize_t i = 0;
        for (; i < count; i++) {
            PyObject *known = PyTuple_GET_ITEM(cached, i + 1);
            if (known != keys[i] && PyUnicode_Compare(known, keys[i]) != 0)
                break;
        }
        if (i == count) {
            Py_XSETREF(*seen_slot, Py_NewRef(cached));
            return Py_NewRef(cached);
        }
    }
    if (slot == NULL) /* the window full: its slots replaced in turn */
        slot = &self->layouts[(home + self->layout_next++ % LAYOUT_PROBE) % LAYOUT_CACHE];
    PyObject *made = PyTuple_New(count + 1);
    if (made == NULL)
        return NULL;
    PyTuple_SET_ITEM(made, 0, Py_NewRef(prefix));
    for (Py_ssize_t i = 0; i < count; i++)
        PyTuple_SET_ITEM(made, i + 1, Py_NewRef(keys[i]));
    PyObject_GC_UnTrack(made); /* strs only (and None): nothing to walk */
    Py_XSETREF(*slot, Py_NewRef(made));
    Py_XSETREF(*seen_slot, Py_NewRef(made));
    return made;
}

/* The one rule of the packed form's values (check_pairs, check_packed): the `count` entries
 * of `source` snapshotted into `packed` (made for them), value `at` in slot packed_at(at) for
 * the event's own properties (`top`) or at + 1 for a property's dict; then each checked as
 * check_mapping checks an entry (at `depth`, `keys_counted`; a top-level dict value comes
 * back packed) and replaced in place; then the keys' layout (layout_of, with `prefix`). The
 * snapshot first: a converter run by a check is Python code, which could change the
 * application's dict. Nothing in the snapshot runs any, but a finalizer run by the
 * allocation of `packed` could have, so a dict whose size changed meanwhile is the Python
 * method's (the slots left empty are never seen). 1 with a new reference in *layout and the
 * dict's estimate added to *total; 0 (*why set) or -1 as check_entry. */
/* Inlined into both callers, so that `top` is a constant in each: as a call it cost a flat
 * milestone ~65 instructions more than the two copies it replaces (callgrind). */
static Py_ALWAYS_INLINE inline int
pack_entries(Recorder *self, PyObject *source, Py_ssize_t count, PyObject *packed, int top,
             int depth, int keys_counted, PyObject *prefix, long long *total,
             int *holds_tracked, PyObject **layout, PyObject **why)
{
    PyObject *small[PACKED_DICT_MAX];
    PyObject **keys = count <= PACKED_DICT_MAX ? small : PyMem_Malloc(count * sizeof(PyObject *));
    *layout = NULL;
    if (keys == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t pos = 0, taken = 0;
    PyObject *key, *value;
    while (taken < count && PyDict_Next(source, &pos, &key, &value)) {
        keys[taken] = Py_NewRef(key);
        PyTuple_SET_ITEM(packed, top ? packed_at(taken) : taken + 1, Py_NewRef(value));
        taken++;
    }
    *total += dict_bytes(count);
    int ok = taken == count && PyDict_GET_SIZE(source) == count;
    if (!ok)
        *why = why_error;
    for (Py_ssize_t at = 0; ok > 0 && at < taken; at++) {
        Py_ssize_t slot = top ? packed_at(at) : at + 1;
        PyObject *checked;
        ok = check_entry(self, keys[at], PyTuple_GET_ITEM(packed, slot), depth, keys_counted,
                         top, &checked, total, holds_tracked, why);
        if (ok > 0 && checked != NULL) { /* the tuple is ours alone: replaced in place */
            PyObject *old = PyTuple_GET_ITEM(packed, slot);
            PyTuple_SET_ITEM(packed, slot, checked);
            Py_DECREF(old);
        }
    }
    if (ok > 0) {
        *layout = layout_of(self, prefix, keys, taken);
        ok = *layout == NULL ? -1 : 1;
    }
    for (Py_ssize_t at = 0; at < taken; at++)
        Py_DECREF(keys[at]);
    if (keys != small)
        PyMem_Free(keys);
    return ok;
}

/* A property's value that is a dict, checked as check_mapping checks it and packed as the
 * event's own properties are (_record.py, the packed form): a tuple of its layout (Ellipsis
 * in place of the id prefix, then its keys: layout_of) and its values, which the worker
 * rebuilds into the dict (unpack). Decision (issue 15, held memory): a small nested dict is
 * the costliest value users send, 224 bytes for 3 entries on 3.11 where the tuple is 64, and
 * with the collector down most of a burst waits queued. Only a property's own value: a
 * top-level value is never a tuple otherwise (a tuple is sent as a list), so the worker
 * cannot mistake one, where deeper values can be anything. Built straight from `source`
 * (pack_entries), as check_pairs builds the queued tuple: the validated dict copy packed and
 * then freed cost ~800 of a nested milestone's instructions (callgrind). The tuple is
 * tracked by the collector exactly when the copy would have been: when a value it holds is.
 * 1..PACKED_DICT_MAX entries (check_mapping); returns as check_mapping. */
static int
check_packed(Recorder *self, PyObject *source, int depth, int keys_counted, PyObject **out,
             long long *size, PyObject **why)
{
    Py_ssize_t count = PyDict_GET_SIZE(source);
    PyObject *packed = PyTuple_New(count + 1), *layout;
    if (packed == NULL)
        return -1;
    /* Out of the collector's sight while its layout slot is empty (check_pairs' reason). */
    PyObject_GC_UnTrack(packed);
    long long total = 0;
    int holds_tracked = 0;
    int ok = pack_entries(self, source, count, packed, 0, depth, keys_counted, Py_Ellipsis,
                          &total, &holds_tracked, &layout, why);
    if (ok <= 0) {
        Py_DECREF(packed);
        return ok;
    }
    PyTuple_SET_ITEM(packed, 0, layout);
    if (holds_tracked) /* as CPython's own rule keeps a dict holding such a value tracked */
        PyObject_GC_Track(packed);
    *out = packed;
    *size += total;
    return 1;
}

/* The top-level properties as _check_mapping validates them, but packed (_record.py,
 * the packed form) rather than a dict, in the queued tuple itself: a tuple of 13 slots (the event's
 * fields, which emit_plain fills; the body's slot holds the layout, layout_of) and the
 * values after them, in the dict's order. No dict is built on the caller's thread only to
 * be taken apart (its table, its copy and its release cost more than the values). Empty
 * slots are safe: the garbage collector's visit and the tuple's release skip them, and
 * nothing else sees the tuple before emit_plain fills them. The estimate is the dict's, as
 * the Python path queues it, so both paths count the same bytes. */
static int
check_pairs(Recorder *self, PyObject *source, PyObject **out, long long *size, PyObject **why)
{
    Py_ssize_t entries = PyDict_GET_SIZE(source);
    PyObject *queued = PyTuple_New(packed_length(entries)), *layout;
    if (queued == NULL)
        return -1;
    /* Out of the collector's sight from the start (emit_plain's decision for the queued
     * tuple, below): gc.get_objects() in a finalizer run by an allocation here cannot hand
     * Python code a tuple with empty slots. */
    PyObject_GC_UnTrack(queued);
    long long total = 0;
    int holds_tracked = 0; /* no use here: the queued tuple is left out of the walks whole */
    int ok = pack_entries(self, source, entries, queued, 1, 1, 0,
                          self->prefix != NULL ? self->prefix : Py_None, &total,
                          &holds_tracked, &layout, why);
    if (ok <= 0) {
        Py_DECREF(queued);
        return ok;
    }
    PyTuple_SET_ITEM(queued, 4, layout);
    *out = queued;
    *size += total;
    return 1;
}

/* _check_item: a list's item (no depth check of its own for scalars and bytes), with in
 * *size its estimated_bytes (the list counts its slots). */
static int
check_item(Recorder *self, PyObject *value, int depth, PyObject **out, long long *size,
           PyObject **why)
{
    long long bytes;
    int scalar = check_scalar(self, value, &bytes, why);
    if (scalar < 0)
        return 0;
    if (scalar) {
        *out = Py_NewRef(value);
        *size += bytes;
        return 1;
    }
    if (PyBytes_CheckExact(value)) {
        if (PyBytes_GET_SIZE(value) > self->max_string) {
            *why = why_invalid;
            return 0;
        }
        *out = Py_NewRef(value);
        *size += sizes.bytes + PyBytes_GET_SIZE(value);
        return 1;
    }
    return check_nested(self, value, depth, 0, out, size, why);
}

/* _check_nested: a dict, a list or a tuple (sent as a list) at `depth`, with in *size its
 * estimated_bytes. Bytes too, as the Python validator takes them through _values.py (the
 * same object, its length checked). `pack`: a dict comes back packed (check_mapping). */
static int
check_nested(Recorder *self, PyObject *value, int depth, int pack, PyObject **out,
             long long *size, PyObject **why)
{
    if (depth >= self->max_depth) {
        *why = why_deep;
        return 0;
    }
    if (PyDict_CheckExact(value)) {
        if (PyDict_GET_SIZE(value) > self->max_properties) {
            *why = why_invalid;
            return 0;
        }
        return check_mapping(self, value, depth + 1, 1, pack, out, size, why);
    }
    if (PyList_CheckExact(value) || PyTuple_CheckExact(value)) {
        Py_ssize_t count = Py_SIZE(value);
        if (count > self->max_items) {
            *why = why_invalid;
            return 0;
        }
        /* A copy first (a list's items, a tuple's), then its items checked in place. */
        PyObject *copy = PyList_CheckExact(value) ? PyList_GetSlice(value, 0, count)
                                                  : PySequence_List(value);
        if (copy == NULL)
            return -1;
        long long total = sizes.list + sizes.item * PyList_GET_SIZE(copy);
        int holds_tracked = 0;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(copy); i++) {
            PyObject *item = PyList_GET_ITEM(copy, i), *checked;
            int ok = check_item(self, item, depth + 1, &checked, &total, why);
            if (ok <= 0) {
                Py_DECREF(copy);
                return ok;
            }
            holds_tracked |= PyObject_GC_IsTracked(checked);
            PyList_SetItem(copy, i, checked); /* steals checked, releases the item */
        }
        /* Decision: the validated copy of a list of scalars is left out of the collector's
         * walks, as CPython does for a tuple of scalars (and with it the dict that holds it,
         * in check_mapping). Every queued event with a list would otherwise be two objects
         * each collection pass visits, and a 100k burst of them brings full collections onto
         * the recording thread (2.3x the paced cost, issue 15). The copy is ours and holds
         * only strings, numbers and bools. The one cost: nothing puts a list back in the
         * walks when a container is appended to it, so a reference cycle made through it
         * later (by a before_send hook) would not be collected. Memory-safe: list_dealloc's
         * untrack is a no-op for an untracked list. */
        if (!holds_tracked)
            PyObject_GC_UnTrack(copy);
        *out = copy;
        *size += total;
        return 1;
    }
    if (PyBytes_CheckExact(value)) {
        if (PyBytes_GET_SIZE(value) > self->max_string) {
            *why = why_invalid;
            return 0;
        }
        *out = Py_NewRef(value);
        *size += sizes.bytes + PyBytes_GET_SIZE(value);
        return 1;
    }
    /* datetime, date, time, Decimal, UUID, bytearray, memoryview (exact types): converted by
     * the function _values.py has for the type, then checked as a list's item is. An Enum, a
     * set, a subclass or anything else: the one conversion rule, in _values.py, which
     * converts, drops or refuses. */
    PyObject *convert = PyDict_GetItemWithError(self->converters, (PyObject *)Py_TYPE(value));
    if (convert == NULL) {
        if (PyErr_Occurred())
            return -1;
        *why = why_value;
        return 0;
    }
    PyObject *converted = PyObject_CallOneArg(convert, value);
    if (converted == NULL)
        return -1; /* an Exception: the Python method meets it again, and counts it */
    int ok = check_item(self, converted, depth + 1, out, size, why);
    Py_DECREF(converted);
    return ok;
}

/* check_properties_sized: the validated `properties` as the queued tuple to be, holding them
 * packed (check_pairs; None for none or empty), and their estimated bytes; 0
 * with *why when the Python validator has to look. */
static int
check_properties(Recorder *self, PyObject *properties, PyObject **body, long long *size,
                 PyObject **why)
{
    if (!sizes.set) {
        *why = why_state;
        return 0;
    }
    if (properties == NULL || properties == Py_None) {
        *body = Py_NewRef(Py_None);
        return 1;
    }
    if (!PyDict_CheckExact(properties)) {
        *why = why_properties;
        return 0;
    }
    if (PyDict_GET_SIZE(properties) > self->max_properties) {
        *why = why_invalid;
        return 0;
    }
    if (PyDict_GET_SIZE(properties) == 0) {
        *body = Py_NewRef(Py_None);
        return 1;
    }
    int ok = check_pairs(self, properties, body, size, why);
    if (ok < 0 && PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear(); /* out of memory, say: the Python method meets it and handles it */
        *why = why_error;
        return 0;
    }
    return ok;
}

/* estimated_bytes of _validate.py for any value, as track() applies it to a typed event's
 * fields (already validated by pydantic): 0 with *why past `depth` levels, where the Python
 * function decides (it recurses until the interpreter's limit). */
static int
estimate(Recorder *self, PyObject *value, int depth, long long *size, PyObject **why)
{
    if (!sizes.set) {
        *why = why_state;
        return 0;
    }
    if (depth > 64) {
        *why = why_deep;
        return 0;
    }
    if (PyUnicode_CheckExact(value)) {
        *size += str_bytes(value);
    }
    else if (PyLong_CheckExact(value)) {
        *size += sizes.integer;
    }
    else if (PyFloat_CheckExact(value)) {
        *size += sizes.floating;
    }
    else if (PyBool_Check(value) || value == Py_None) {
        /* singletons: nothing of their own */
    }
    else if (PyDict_CheckExact(value)) {
        *size += dict_bytes(PyDict_GET_SIZE(value));
        Py_ssize_t pos = 0;
        PyObject *key, *item;
        while (PyDict_Next(value, &pos, &key, &item)) {
            /* A typed event's dict field may have int keys (pydantic): a boxed value each. */
            *size += PyUnicode_CheckExact(key) ? PyUnicode_GET_LENGTH(key) : sizes.value;
            if (!estimate(self, item, depth + 1, size, why))
                return 0;
        }
    }
    else if (PyList_CheckExact(value) || PyTuple_CheckExact(value)) {
        Py_ssize_t count = Py_SIZE(value);
        *size += sizes.list + sizes.item * count;
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *item = PyList_CheckExact(value) ? PyList_GET_ITEM(value, i)
                                                      : PyTuple_GET_ITEM(value, i);
            if (!estimate(self, item, depth + 1, size, why))
                return 0;
        }
    }
    else if (PyBytes_CheckExact(value)) {
        *size += sizes.bytes + PyBytes_GET_SIZE(value);
    }
    else {
        *size += sizes.value;
    }
    return 1;
}

/* set_sizes(SIZES): the size rule's constants, from _validate.py. */
static PyObject *
set_sizes(PyObject *module, PyObject *arg)
{
    long long *fields[] = {&sizes.str,   &sizes.wide_str, &sizes.integer,     &sizes.floating,
                           &sizes.bytes, &sizes.list,     &sizes.item,        &sizes.value,
                           &sizes.dict_header, &sizes.dict_entry, &sizes.empty_dict};
    const Py_ssize_t count = (Py_ssize_t)(sizeof(fields) / sizeof(fields[0]));
    if (!PyTuple_CheckExact(arg) || PyTuple_GET_SIZE(arg) != count) {
        PyErr_Format(PyExc_TypeError, "set_sizes takes a tuple of %zd ints", count);
        return NULL;
    }
    long long values[sizeof(fields) / sizeof(fields[0])];
    for (Py_ssize_t i = 0; i < count; i++) {
        values[i] = PyLong_AsLongLong(PyTuple_GET_ITEM(arg, i));
        if (values[i] == -1 && PyErr_Occurred())
            return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++)
        *fields[i] = values[i];
    sizes.set = 1;
    Py_RETURN_NONE;
}

/* _timestamp_ns of _client.py for seconds since the epoch (an exact int or float); 0 with
 * *why for anything else (a datetime: Python converts it; a bad value: Python refuses). */
static int
timestamp_ns(PyObject *timestamp, PyObject **out, PyObject **why)
{
    /* The last OTLP time, 2**64 - 1 ns, in seconds as Python computes it (a double). */
    const double max_seconds = 18446744073709551615.0 / 1e9;
    if (PyLong_CheckExact(timestamp)) {
        int overflow;
        long long seconds = PyLong_AsLongLongAndOverflow(timestamp, &overflow);
        if (overflow || seconds < 0 || (double)seconds >= max_seconds) {
            *why = why_invalid;
            return 0;
        }
        *out = PyLong_FromUnsignedLongLong((unsigned long long)seconds * 1000000000ULL);
        return *out == NULL ? -1 : 1;
    }
    if (PyFloat_CheckExact(timestamp)) {
        double seconds = PyFloat_AS_DOUBLE(timestamp);
        if (!(seconds >= 0 && seconds < max_seconds)) { /* NaN fails too */
            *why = why_invalid;
            return 0;
        }
        double ns = seconds * 1e9; /* int(value * 1_000_000_000): the same double, truncated */
        if (ns >= 18446744073709551616.0) {
            *why = why_invalid;
            return 0;
        }
        *out = PyLong_FromDouble(ns);
        return *out == NULL ? -1 : 1;
    }
    *why = why_timestamp; /* a datetime (or something Python refuses) */
    return 0;
}

static const char HEX[] = "0123456789abcdef";
/* The two hex digits of each byte, "00" to "ff" (event_id). */
static char HEX_PAIRS[512];

static void
fill_hex_pairs(void)
{
    for (int byte = 0; byte < 256; byte++) {
        HEX_PAIRS[2 * byte] = HEX[byte >> 4];
        HEX_PAIRS[2 * byte + 1] = HEX[byte & 15];
    }
}

/* time.time_ns() in C, for a Recorder whose clock is time.time_ns itself (the client's
 * default; a test's clock is called): the same clock (CLOCK_REALTIME, as CPython reads it
 * on POSIX), without a call and an int object of 48 bytes the packed form would not keep
 * (stamp_of). 0 where there is no such clock: the caller calls time_ns. */
static int
now_ns(long long *out)
{
#if defined(CLOCK_REALTIME) && !defined(_WIN32)
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) == 0) {
        *out = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
        return 1;
    }
#endif
    return 0;
}

/* A packed event's stamp (_record.py, the packed form): its time in nanoseconds times 2**64
 * plus the low 64 bits of its sequence number, one int where the plain form holds two.
 * Decision (issue 15, held memory): on 3.11 a time int is 36 bytes and a sequence number 28,
 * 48 and 32 in the allocator's classes, where the stamp is 44 (48): 32 bytes less per queued
 * event, for one int built from 16 bytes here (the time int it replaces is not built at all
 * when the clock is read here, now_ns). `now`: the time as an int, or NULL for `now_c`. A new
 * reference, NULL with an exception. */
static PyObject *
stamp_of(PyObject *now, long long now_c, unsigned long long low)
{
    if (now != NULL) {
        int overflow;
        now_c = PyLong_AsLongLongAndOverflow(now, &overflow);
        if (now_c == -1 && PyErr_Occurred())
            return NULL;
        if (overflow) { /* a timestamp past 2262 or before 1677: now << 64 | low */
            PyObject *high = PyNumber_Lshift(now, sixty_four);
            PyObject *bits = high == NULL ? NULL : PyLong_FromUnsignedLongLong(low);
            PyObject *stamp = bits == NULL ? NULL : PyNumber_Or(high, bits);
            Py_XDECREF(high);
            Py_XDECREF(bits);
            return stamp;
        }
    }
#if PY_VERSION_HEX < 0x030C0000 && defined(__SIZEOF_INT128__)
    /* 3.10 and 3.11 (whose int layout is settled): the digits written straight, for a time
     * after 1970 (a non-negative stamp). _PyLong_FromByteArray reads the 16 bytes one at a
     * time, ~270 instructions of a call (callgrind); this is ~30. The byte-array path below
     * is the reference, and the tests compare the stamps with the Python rule. */
    if (now_c >= 0) {
        unsigned __int128 bits = ((unsigned __int128)(unsigned long long)now_c << 64) | low;
        Py_ssize_t count = 0;
        digit digits[(128 + PyLong_SHIFT - 1) / PyLong_SHIFT];
        for (; bits != 0; bits >>= PyLong_SHIFT)
            digits[count++] = (digit)(bits & PyLong_MASK);
        PyLongObject *made = _PyLong_New(count);
        if (made == NULL)
            return NULL;
        memcpy(made->ob_digit, digits, (size_t)count * sizeof(digit));
        return (PyObject *)made;
    }
#endif
    unsigned char bytes[16]; /* little-endian, signed: low, then the time */
    unsigned long long high = (unsigned long long)now_c;
    for (int i = 0; i < 8; i++) {
        bytes[i] = (unsigned char)(low >> (8 * i));
        bytes[8 + i] = (unsigned char)(high >> (8 * i));
    }
#if PY_VERSION_HEX >= 0x030D0000
    return PyLong_FromNativeBytes(bytes, 16, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
#else
    return _PyLong_FromByteArray(bytes, 16, 1, 1);
#endif
}

/* 32 lowercase hex digits: hex(high << 64 | low)[2:] with the top bit of high set, from
 * high's 16 digits (formatted once per client, see emit_plain). */
static PyObject *
event_id(const char *high_hex, unsigned long long low)
{
    PyObject *text = PyUnicode_New(32, 127);
    if (text == NULL)
        return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(text);
    memcpy(out, high_hex, 16);
    for (int i = 7; i >= 0; i--, low >>= 8)
        memcpy(out + 16 + 2 * i, HEX_PAIRS + 2 * (low & 255), 2);
    return text;
}

/* The client's attribute `which` (CLIENT_*), borrowed from its __dict__; NULL if missing (an
 * exception set if the lookup failed).
 *
 * Decision (issue 15, the caller's cost at an application's pace): these were four or five
 * lookups in the client's __dict__ per recorded event, ~450 of a flat milestone's ~3,600
 * instructions (callgrind), and each touches the dict's tables, which are cold again after
 * the caller has been idle. Where CPython keeps a version number in every dict (3.11 and
 * earlier; it is deprecated from 3.12), the values looked up last are taken again while the
 * version is the same: any change to the dict changes it, so a value seen under that version
 * is still the dict's own, held by it. Elsewhere they are looked up every time. */
#if PY_VERSION_HEX < 0x030C0000
#define CLIENT_VERSIONED 1
#endif

static PyObject *const *client_names[CLIENT_ATTRIBUTES] = {
    &str_submit, &str_opted_out, &str_id_high, &str_next_seq, &str_watched};

static PyObject *
client_attribute(Recorder *self, int which)
{
#ifdef CLIENT_VERSIONED
    unsigned long long version = ((PyDictObject *)self->client_dict)->ma_version_tag;
    if (version != self->client_version || version == 0) {
        /* str keys only (a __dict__'s): no Python code runs during these lookups */
        for (int i = 0; i < CLIENT_ATTRIBUTES; i++) {
            PyObject *value = PyDict_GetItemWithError(self->client_dict, *client_names[i]);
            if (value == NULL && PyErr_Occurred()) {
                self->client_version = 0;
                return NULL;
            }
            self->client_seen[i] = value;
        }
        self->client_version = version;
    }
    return self->client_seen[which];
#else
    return PyDict_GetItemWithError(self->client_dict, *client_names[which]);
#endif
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

/* An exact int attribute of an EventQueue that fits a long long, into *out; 0 otherwise. */
/* EventQueue's attributes queue_submit() reads and writes, in its __slots__
 * (_pipeline/_queue.py): found by offset in the instance, as a slot's descriptor does.
 * Decision (issue 15, the caller's cost): the queue's attributes were nine lookups in its
 * __dict__ per recorded event, ~50 ns of a flat event's ~350 ns of SDK work; read where the
 * slots are, they cost a load each. Resolved from the class's member descriptors once per
 * class (queue_slots_of); a class whose descriptors are not plain object slots leaves
 * every event to the Python method. */
/* (Q_*: the queue's slots, defined with the Recorder.) */
static PyTypeObject *queue_type;          /* the class the offsets are for (held) */
static Py_ssize_t queue_offsets[Q_SLOTS]; /* 0: not usable */

static int
queue_slots_of(PyTypeObject *type)
{
    if (type == queue_type)
        return queue_offsets[0] != 0;
    PyObject **const names[Q_SLOTS] = {&str_items,     &str_closed,    &str_wake,
                                       &str_held,      &str_max_size,  &str_bytes_in,
                                       &str_bytes_out, &str_max_bytes, &str_batch_size};
    Py_ssize_t offsets[Q_SLOTS];
    int usable = 1;
    for (int i = 0; usable && i < Q_SLOTS; i++) {
        PyObject *descr = PyObject_GetAttr((PyObject *)type, *names[i]);
        if (descr == NULL)
            PyErr_Clear();
        offsets[i] = plain_slot_offset(descr);
        usable = offsets[i] != 0;
        Py_XDECREF(descr);
    }
    Py_XSETREF(queue_type, (PyTypeObject *)Py_NewRef(type));
    for (int i = 0; i < Q_SLOTS; i++)
        queue_offsets[i] = usable ? offsets[i] : 0;
    return usable;
}

static inline PyObject **
queue_slot(PyObject *queue, int which)
{
    return (PyObject **)((char *)queue + queue_offsets[which]);
}

/* An int in a slot of the queue as a long long; 0 when it is not a plain int. The object
 * seen there last is known (Recorder.ints_seen): the limits never change and the counters
 * change once a batch, so most reads are one compare instead of a conversion (six per
 * event, ~150 instructions, callgrind). */
static int
queue_int(Recorder *self, PyObject *queue, int which, long long *out)
{
    PyObject *value = *queue_slot(queue, which);
    if (value != NULL && value == self->ints_seen[which]) {
        *out = self->ints_value[which];
        return 1;
    }
    if (value == NULL || !PyLong_CheckExact(value))
        return 0;
    int overflow;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (number == -1 && PyErr_Occurred()))
        return 0;
    Py_XSETREF(self->ints_seen[which], Py_NewRef(value)); /* an int: no finalizer */
    self->ints_value[which] = number;
    *out = number;
    return 1;
}

/* EventQueue.submit (_pipeline/_queue.py, the reference) without its Python frame, for the
 * pipeline's own queue: the same bounds check, the append, the `bytes_in` account and the
 * wake rule, in that order. Only the accepted case is taken here: a full or closed queue, or
 * a queue whose attributes are not the ones this reads, is left to the Python method (0),
 * which counts the drop and warns once. 1: queued; -1: an exception after the append (the
 * Python method's `+=` failing the same way). Nothing here runs Python code while the
 * numbers are read and written (the GIL is held throughout), which is what the Python
 * method relies on too. */
static int
queue_submit(Recorder *self, PyObject *queue, PyObject *queued, long long size)
{
    if (!queue_slots_of(Py_TYPE(queue)))
        return 0;
    int result = 0;
    long long held, max_size, bytes_in, bytes_out, max_bytes, batch_size;
    PyObject *items = *queue_slot(queue, Q_ITEMS), *closed = *queue_slot(queue, Q_CLOSED);
    PyObject *wake = *queue_slot(queue, Q_WAKE);
    if (items == NULL || wake == NULL || closed != Py_False ||
        Py_TYPE(items) != PyDescr_TYPE(self->deque_append) ||
        !queue_int(self, queue, Q_HELD, &held) ||
        !queue_int(self, queue, Q_MAX_SIZE, &max_size) ||
        !queue_int(self, queue, Q_BYTES_IN, &bytes_in) ||
        !queue_int(self, queue, Q_BYTES_OUT, &bytes_out) ||
        !queue_int(self, queue, Q_MAX_BYTES, &max_bytes) ||
        !queue_int(self, queue, Q_BATCH_SIZE, &batch_size) || bytes_in > LLONG_MAX - size)
        goto done; /* closed, or not what this expects: the Python method decides */
    Py_ssize_t waiting = PyObject_Size(items);
    if (waiting < 0 || waiting + held >= max_size || bytes_in - bytes_out >= max_bytes)
        goto done; /* full: the Python method counts the drop */
    PyObject *grown = PyLong_FromLongLong(bytes_in + size);
    if (grown == NULL)
        goto done;
    Py_INCREF(items);
    Py_INCREF(wake);
    /* deque.append's own C function, as its method descriptor would call it (METH_O, on a
     * deque: checked above), without the descriptor's generic call (~70 instructions). */
    PyMethodDef *append = ((PyMethodDescrObject *)self->deque_append)->d_method;
    PyObject *appended;
    if (append->ml_flags == METH_O) {
        appended = append->ml_meth(items, queued);
    }
    else {
        PyObject *pair[2] = {items, queued};
        appended = PyObject_Vectorcall(self->deque_append, pair, 2, NULL);
    }
    result = -1;
    if (appended != NULL) {
        Py_DECREF(appended);
        /* The append ran no Python code (a deque of tuples), so the slots are as read. */
        Py_XSETREF(self->ints_seen[Q_BYTES_IN], Py_NewRef(grown)); /* known: no conversion */
        self->ints_value[Q_BYTES_IN] = bytes_in + size;
        Py_XSETREF(*queue_slot(queue, Q_BYTES_IN), grown);
        grown = NULL;
        result = 1;
    }
    Py_XDECREF(grown);
    /* The wake rule: a full batch waiting and the worker not yet woken. The flag of a
     * threading.Event is read where it is (its `_flag`), else asked (`is_set()`). */
    if (result == 1 && waiting + 1 >= batch_size) {
        PyObject *wake_attrs = PyObject_GenericGetDict(wake, NULL);
        PyObject *flag = wake_attrs ? PyDict_GetItemWithError(wake_attrs, str_flag) : NULL;
        int is_set = flag != NULL && PyBool_Check(flag) ? flag == Py_True : -1;
        Py_XDECREF(wake_attrs);
        PyErr_Clear();
        if (is_set < 0) {
            PyObject *answer = PyObject_CallMethodNoArgs(wake, str_is_set);
            is_set = answer == NULL ? -1 : PyObject_IsTrue(answer);
            Py_XDECREF(answer);
        }
        PyObject *woken = is_set == 0 ? PyObject_CallMethodNoArgs(wake, str_set) : NULL;
        Py_XDECREF(woken);
        if (is_set < 0 || (is_set == 0 && woken == NULL))
            result = -1;
    }
    Py_DECREF(items);
    Py_DECREF(wake);
done:
    if (result == 0)
        PyErr_Clear();
    return result;
}

/* The queued event's size estimate as an int (a new reference): the one made before for the
 * same value when there is one (Recorder.sizes_made). */
static PyObject *
queued_size(Recorder *self, long long estimate)
{
    PyObject **slot = &self->sizes_made[(unsigned long long)estimate % SIZE_CACHE];
    if (*slot != NULL) {
        int overflow;
        if (PyLong_AsLongLongAndOverflow(*slot, &overflow) == estimate && !overflow)
            return Py_NewRef(*slot);
    }
    PyObject *made = PyLong_FromLongLong(estimate);
    if (made != NULL)
        Py_XSETREF(*slot, Py_NewRef(made));
    return made;
}

/* What every recording call hands to emit(). */
typedef struct {
    PyObject *schema;
    PyObject *name;
    PyObject *body;           /* borrowed; the validated copy, a typed event or None */
    PyObject *attribute_keys; /* borrowed; a tuple of keys (attribute_keys()) or None */
    PyObject *user_id, *account_id, *session_id, *timestamp; /* as passed: NULL when absent */
    long long size;           /* estimated bytes of body and attributes */
    PyObject *attribute_values[4]; /* borrowed; the attributes' values, in the keys' order */
} Emitted;

/* A packed event's context (_record.py, the packed form): (account id, session id, trace
 * id, span id, trace flags) in one tuple, the last one made reused while they are the same
 * objects. Decision (issue 15, held memory): in a burst they almost never change between
 * events (the scope's ids, no span or the request's span), so 5 slots of each queued
 * event become 1 (32 bytes of 312 for the flat event on 3.11, bench/queued_memory.py),
 * with 5 identity checks on the caller's thread. Events whose context changes at every
 * call (threads interleaving requests with spans) each pay a tuple of 80 bytes instead:
 * 40 more than the slots. A new reference, NULL with an exception. */
static PyObject *
shared_context(Recorder *self, PyObject *const items[5])
{
    PyObject *last = self->context;
    if (last != NULL && PyTuple_GET_ITEM(last, 0) == items[0] &&
        PyTuple_GET_ITEM(last, 1) == items[1] && PyTuple_GET_ITEM(last, 2) == items[2] &&
        PyTuple_GET_ITEM(last, 3) == items[3] && PyTuple_GET_ITEM(last, 4) == items[4])
        return Py_NewRef(last);
    PyObject *made = PyTuple_New(5);
    if (made == NULL)
        return NULL;
    for (int i = 0; i < 5; i++)
        PyTuple_SET_ITEM(made, i, Py_NewRef(items[i]));
    PyObject_GC_UnTrack(made); /* ids and ints: nothing to walk */
    Py_XSETREF(self->context, Py_NewRef(made));
    return made;
}

/* The queued tuple of the packed form (_record.py): the stamp (stamp_of), the layout with
 * this event's prefix (layout_of), the properties' values where check_pairs put them, the
 * attributes' keys (shared, attribute_keys()) with their values after the properties', the
 * shared context (shared_context). check_pairs built the tuple already, its fields empty
 * but the layout's, so the caller's thread builds no dict and copies no value unless the
 * attributes need room the tuple does not have. `body`: that tuple, or None for an event
 * without properties (the layout of no keys). A new reference, left out of the collector's
 * walks, NULL with an exception. */
static PyObject *
queued_packed(Recorder *self, Emitted *event, PyObject *prefix, PyObject *now, long long now_c,
              unsigned long long low, PyObject *const context_items[5], PyObject *bytes)
{
    PyObject *body = event->body, *queued = NULL, *layout = NULL;
    Py_ssize_t attributes = event->attribute_keys == Py_None
                                ? 0
                                : PyTuple_GET_SIZE(event->attribute_keys);
    Py_ssize_t values = 0;
    if (body == Py_None) {
        layout = layout_of(self, prefix, NULL, 0);
        queued = layout == NULL ? NULL : PyTuple_New(packed_length(attributes));
    }
    else {
        PyObject *old = PyTuple_GET_ITEM(body, 4);
        values = PyTuple_GET_SIZE(old) - 1;
        /* Laid out before the prefix was known (the client's first event) or since it
         * changed (a fork): the same keys with this event's prefix. */
        layout = PyTuple_GET_ITEM(old, 0) == prefix
                     ? Py_NewRef(old)
                     : layout_of(self, prefix, ((PyTupleObject *)old)->ob_item + 1, values);
        Py_ssize_t length = packed_length(values + attributes);
        if (layout == NULL)
            queued = NULL;
        else if (Py_REFCNT(body) == 1 && PyTuple_GET_SIZE(body) == length)
            queued = Py_NewRef(body); /* ours alone (the caller's reference) */
        else { /* room for the attributes' values, or shared after all (never, today) */
            queued = PyTuple_New(length);
            for (Py_ssize_t i = 0; queued != NULL && i < values; i++)
                PyTuple_SET_ITEM(queued, packed_at(i),
                                 Py_NewRef(PyTuple_GET_ITEM(body, packed_at(i))));
        }
    }
    if (queued == NULL) {
        Py_XDECREF(layout);
        return NULL;
    }
    /* Out of the collector's sight from the start: its empty slots are never seen. */
    PyObject_GC_UnTrack(queued);
    PyObject *stamp = stamp_of(now, now_c, low);
    PyObject *context = stamp == NULL ? NULL : shared_context(self, context_items);
    if (context == NULL) {
        Py_XDECREF(stamp);
        Py_DECREF(layout);
        Py_DECREF(queued);
        return NULL;
    }
    PyObject *previous = PyTuple_GET_ITEM(queued, 4);
    PyTuple_SET_ITEM(queued, 4, layout);
    Py_XDECREF(previous);
    PyTuple_SET_ITEM(queued, 0, stamp);
    PyTuple_SET_ITEM(queued, 2, Py_NewRef(event->schema));
    PyTuple_SET_ITEM(queued, 3, Py_NewRef(event->name));
    PyTuple_SET_ITEM(queued, PACKED_ATTRIBUTES, Py_NewRef(event->attribute_keys));
    PyTuple_SET_ITEM(queued, 6, Py_NewRef(event->user_id));
    PyTuple_SET_ITEM(queued, PACKED_CONTEXT, context);
    for (Py_ssize_t i = 0; i < attributes; i++)
        PyTuple_SET_ITEM(queued, packed_at(values + i), Py_NewRef(event->attribute_values[i]));
    for (Py_ssize_t at = 1; at < 12; at++)
        if (packed_value_slot(at) && PyTuple_GET_ITEM(queued, at) == NULL)
            PyTuple_SET_ITEM(queued, at, Py_NewRef(Py_None));
    PyTuple_SET_ITEM(queued, 12, Py_NewRef(bytes));
    return queued;
}

/* The attributes of an event as the dict the Python path builds (feedback_attributes,
 * outcome's), for the plain form and the worker's unpack. A new reference, NULL with an
 * exception. */
static PyObject *
attributes_dict(PyObject *keys, PyObject *const *values)
{
    PyObject *made = PyDict_New();
    for (Py_ssize_t i = 0; made != NULL && i < PyTuple_GET_SIZE(keys); i++)
        if (PyDict_SetItem(made, PyTuple_GET_ITEM(keys, i), values[i]) < 0)
            Py_CLEAR(made);
    return made;
}

/* The queued tuple of the plain form (_record.py): EventRecord's arguments and the size, for
 * a typed event queued as its instance (or an empty typed body). `fields`: account id,
 * session id, trace id, span id, trace flags. A new reference, NULL with an exception. */
static PyObject *
queued_plain(Emitted *event, PyObject *id, PyObject *now, PyObject *const fields[5],
             PyObject *bytes)
{
    PyObject *attributes = event->attribute_keys == Py_None
                               ? Py_NewRef(Py_None)
                               : attributes_dict(event->attribute_keys, event->attribute_values);
    PyObject *queued = attributes == NULL ? NULL : PyTuple_New(13);
    if (queued == NULL) {
        Py_XDECREF(attributes);
        return NULL;
    }
    PyObject *const items[13] = {id,         now,       event->schema, event->name, event->body,
                                 attributes, event->user_id, fields[0],  fields[1],  fields[2],
                                 fields[3],  fields[4], bytes};
    for (int at = 0; at < 13; at++)
        PyTuple_SET_ITEM(queued, at, Py_NewRef(items[at]));
    Py_DECREF(attributes);
    return queued;
}

/* Client._emit: ids from the scope, the opt-out check, the active span, the commit point,
 * the queued tuple, the submit. Returns the call's result, or NULL: with an exception to
 * raise, or without one and with *why set when the Python method has to run instead (only
 * ever before the commit point). */
static PyObject *
emit_plain(Recorder *self, Emitted *event, PyObject **why)
{
    PyObject *user_id = event->user_id, *account_id = event->account_id;
    PyObject *session_id = event->session_id, *timestamp = event->timestamp;
    PyObject *now = NULL; /* the time, converted before anything is counted */
    if (timestamp != NULL && timestamp != Py_None) {
        int ok = timestamp_ns(timestamp, &now, why);
        if (ok < 0) {
            if (!PyErr_ExceptionMatches(PyExc_Exception))
                return NULL;
            PyErr_Clear();
            *why = why_error;
        }
        if (ok <= 0)
            return NULL;
    }

    /* Strong references: the calls below can run Python code (a finalizer during an
     * allocation, another thread at a switch) that replaces these attributes. */
    PyObject *submit = client_attribute(self, CLIENT_SUBMIT);
    PyObject *opted_out = submit ? client_attribute(self, CLIENT_OPTED_OUT) : NULL;
    PyObject *id_high = opted_out ? client_attribute(self, CLIENT_ID_HIGH) : NULL;
    PyObject *next_seq = id_high ? client_attribute(self, CLIENT_NEXT_SEQ) : NULL;
    if (next_seq == NULL || !PyAnySet_Check(opted_out) || !PyLong_CheckExact(id_high)) {
        Py_XDECREF(now);
        if (PyErr_Occurred())
            return NULL;
        *why = why_state;
        return NULL;
    }
    if (id_high != self->id_high) { /* a new client, or reseeded (a fork): format it once */
        unsigned long long high = PyLong_AsUnsignedLongLong(id_high);
        if (high == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            Py_XDECREF(now);
            *why = why_state;
            return NULL;
        }
        char digits[16];
        for (int i = 15; i >= 0; i--, high >>= 4)
            digits[i] = HEX[high & 15];
        PyObject *prefix = PyUnicode_FromStringAndSize(digits, 16);
        if (prefix == NULL) {
            Py_XDECREF(now);
            return NULL;
        }
        memcpy(self->high_hex, digits, 16);
        Py_XSETREF(self->prefix, prefix);
        Py_XSETREF(self->id_high, Py_NewRef(id_high));
    }
    /* This event's, whatever another thread does to the cache meanwhile. */
    char high_hex[16];
    memcpy(high_hex, self->high_hex, 16);
    PyObject *prefix = Py_NewRef(self->prefix);
    Py_INCREF(submit);
    Py_INCREF(opted_out);
    Py_INCREF(next_seq);

    PyObject *identity = NULL, *trace = NULL, *span = NULL, *flags = NULL;
    PyObject *span_ids = NULL, *id = NULL, *result = NULL;
    long long size = event->size;
    int committed = 0;
    if (PyContextVar_Get(self->identity_var, NULL, &identity) < 0 || identity == NULL)
        goto done;
    if (!PyTuple_Check(identity) || PyTuple_GET_SIZE(identity) != 3) {
        *why = why_state;
        goto done;
    }
    if (user_id == NULL || user_id == Py_None)
        user_id = PyTuple_GET_ITEM(identity, 0);
    if (account_id == NULL || account_id == Py_None)
        account_id = PyTuple_GET_ITEM(identity, 1);
    if (session_id == NULL || session_id == Py_None)
        session_id = PyTuple_GET_ITEM(identity, 2);
    if (PySet_GET_SIZE(opted_out) > 0) {
        int out = PySet_Contains(opted_out, user_id);
        if (out != 0) { /* opted out (counted by the Python method), or an error */
            if (out > 0)
                *why = why_opted_out;
            goto done;
        }
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
    long long now_c = 0; /* the time, when read here (now_ns) rather than as an int */
    if (now == NULL && !(self->time_ns == time_time_ns && now_ns(&now_c)) &&
        (now = PyObject_CallNoArgs(self->time_ns)) == NULL)
        goto done;

    /* Commit point: from here on the event counts as recorded, and a failure is the Python
     * method's internal error rather than a reason to hand over. */
    /* The client's own counter (as at init): its __next__ straight, not through the
     * method-wrapper's generic call. */
    PyObject *seq = next_seq == self->next_seq && self->sequence != Py_None
                        ? Py_TYPE(self->sequence)->tp_iternext(self->sequence)
                        : PyObject_CallNoArgs(next_seq);
    if (seq == NULL)
        goto done; /* not counted: the Python method counts its own outcome */
    committed = 1;
    unsigned long long low = PyLong_AsUnsignedLongLongMask(seq);
    Py_DECREF(seq);
    if (low == (unsigned long long)-1 && PyErr_Occurred())
        goto done;
    id = event_id(high_hex, low);
    if (id == NULL)
        goto done;
    /* Every byte the event holds counts against max_queue_bytes, its ids included. */
    size += PyUnicode_GET_LENGTH(event->name);
    if (PyUnicode_Check(user_id))
        size += PyUnicode_GET_LENGTH(user_id);
    if (PyUnicode_Check(account_id))
        size += PyUnicode_GET_LENGTH(account_id);
    if (PyUnicode_Check(session_id))
        size += PyUnicode_GET_LENGTH(session_id);
    if (event->attribute_keys != Py_None)
        size += self->attributes_bytes;
    /* The packed form (_record.py) for properties validated here (check_pairs) and for an
     * event without properties: the values in the queued tuple, their keys in a layout
     * shared by the events of that shape, the time and the sequence number in one stamp,
     * the attributes' keys shared too, the ids of the context in a shared tuple. The worker
     * rebuilds the id, the time and the dicts (record_of). Decision (issue 15, held memory):
     * with the collector down most of a burst waits queued (the worker costs 2-4x the caller
     * per event), and a dict of 8 entries costs 272 bytes where its values cost 64 in the
     * tuple; this is most of what an event held in a burst costs (bench/held_profile.py). A
     * typed event queued as its instance, or an empty typed body, keeps the plain form (its
     * id a str). */
    event->user_id = user_id;
    PyObject *const context_items[5] = {account_id, session_id, trace, span, flags};
    PyObject *bytes = queued_size(self, self->record_bytes + size);
    PyObject *queued = NULL;
    if (bytes != NULL && (PyTuple_CheckExact(event->body) || event->body == Py_None))
        queued = queued_packed(self, event, prefix, now, now_c, low, context_items, bytes);
    else if (bytes != NULL && (now != NULL || (now = PyLong_FromLongLong(now_c)) != NULL))
        queued = queued_plain(event, id, now, context_items, bytes);
    Py_XDECREF(bytes);
    if (queued == NULL)
        goto done;
    /* Nothing can point back at this tuple (the worker unpacks it, a capture keeps it in a
     * list): it cannot be part of a cycle, so the collector need not visit it. With up to
     * max_queue_size events waiting, that is a heap's worth of objects fewer to traverse
     * in every collection during a burst (CPython untracks such tuples itself, but only
     * once every element is untracked, which a body with a list never is). */
    PyObject_GC_UnTrack(queued);
    int ok = 0;
    if (PyMethod_Check(submit) && PyMethod_GET_FUNCTION(submit) == self->queue_submit)
        ok = queue_submit(self, PyMethod_GET_SELF(submit), queued, self->record_bytes + size);
    if (ok == 0) { /* another pipeline (a capture), or the Python method's own case */
        PyObject *accepted = PyObject_CallOneArg(submit, queued);
        int taken = accepted == NULL ? -1 : PyObject_IsTrue(accepted);
        Py_XDECREF(accepted);
        ok = taken < 0 ? -1 : taken ? 1 : 2; /* 2: refused (full, closed) */
    }
    Py_DECREF(queued);
    if (ok > 0)
        result = Py_NewRef(ok == 1 ? id : Py_None);

done:
    Py_XDECREF(now);
    Py_DECREF(prefix);
    Py_XDECREF(identity);
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
        *why = why_error;
    }
    else if (*why == NULL) {
        *why = why_state;
    }
    return NULL;
}

/* emit_plain, after the id rule of _ids.py: an id that is not a plain string (an int, a
 * UUID, a str subclass) is normalised by the Python function, and handed over when it is
 * still not one (the Python method raises or drops it, with its error). */
static PyObject *
emit(Recorder *self, Emitted *event, PyObject **why)
{
    PyObject **ids[3] = {&event->user_id, &event->account_id, &event->session_id};
    PyObject *owned[3] = {NULL, NULL, NULL};
    PyObject *result = NULL;
    for (int i = 0; i < 3; i++) {
        if (plain_id(*ids[i], self->max_id))
            continue;
        owned[i] = PyObject_CallOneArg(self->normalize_id, *ids[i]);
        if (owned[i] == NULL) {
            if (PyErr_ExceptionMatches(PyExc_Exception)) {
                PyErr_Clear();
                *why = why_error;
            }
            goto done;
        }
        if (!plain_id(owned[i], self->max_id)) {
            *why = why_invalid;
            goto done;
        }
        *ids[i] = owned[i];
    }
    result = emit_plain(self, event, why);
done:
    for (int i = 0; i < 3; i++)
        Py_XDECREF(owned[i]);
    return result;
}

/* The end of every accelerated call: emit's result, or the Python method after it. */
static inline PyObject *
finish(Recorder *self, PyObject *result, PyObject *why, PyObject *slow, PyObject *const *args,
       size_t nargsf, PyObject *kwnames)
{
    if (result != NULL || PyErr_Occurred())
        return result;
    return call_slow(self, slow, why, args, nargsf, kwnames);
}

/* An exception before the commit point (out of memory, say): the Python method meets the
 * same condition and handles it its way (an internal error, counted); anything that is not
 * an Exception (KeyboardInterrupt) goes up. */
static PyObject *
recover(Recorder *self, PyObject *slow, PyObject *const *args, size_t nargsf,
        PyObject *kwnames)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception))
        return NULL;
    PyErr_Clear();
    return call_slow(self, slow, why_error, args, nargsf, kwnames);
}

static int
ready(Recorder *self)
{
    if (self->client != NULL)
        return 1;
    PyErr_SetString(PyExc_RuntimeError, "Recorder.__init__ was not called");
    return 0;
}

static SeenKeywords seen_milestone[SEEN_SITES];
static PyObject **const MILESTONE_KEYWORDS[] = {&str_user_id, &str_account_id, &str_session_id,
                                                &str_properties, &str_timestamp, NULL};

static PyObject *
Recorder_milestone(Recorder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *kw[5] = {NULL, NULL, NULL, NULL, NULL};
    PyObject *why = NULL, *slow = self->slow;
    if (!ready(self))
        return NULL;
    if (nargs != 1)
        return call_slow(self, slow, why_arguments, args, nargsf, kwnames);
    if (!parse_keywords(args, nargs, kwnames, MILESTONE_KEYWORDS, kw, seen_milestone))
        return call_slow(self, slow, why_keyword, args, nargsf, kwnames);
    PyObject *name = args[0];
    if (!PyUnicode_CheckExact(name) || !known_name(self, name))
        return call_slow(self, slow, why_invalid, args, nargsf, kwnames);
    /* A milestone some prompt depends on (client._watched): the Python method also tells the
     * prompt engine at once, so next_for() agrees immediately. Rare by nature. */
    PyObject *watched = client_attribute(self, CLIENT_WATCHED);
    if (watched == NULL && PyErr_Occurred())
        return recover(self, slow, args, nargsf, kwnames);
    if (watched != NULL && PyAnySet_Check(watched) && PySet_GET_SIZE(watched) > 0) {
        int hit = PySet_Contains(watched, name);
        if (hit < 0)
            PyErr_Clear();
        if (hit != 0)
            return call_slow(self, slow, why_watched, args, nargsf, kwnames);
    }
    Emitted event = {self->schema, name, NULL, Py_None, kw[0], kw[1], kw[2], kw[4], 0};
    int ok = check_properties(self, kw[3], &event.body, &event.size, &why);
    if (ok <= 0)
        return ok < 0 ? NULL : call_slow(self, slow, why, args, nargsf, kwnames);
    PyObject *result = emit(self, &event, &why);
    Py_DECREF(event.body);
    return finish(self, result, why, slow, args, nargsf, kwnames);
}

/* The keys of packed attributes (_record.py, the packed form; Recorder.attribute_keys):
 * `which` < OUTCOME_KEYS for feedback, its bits saying which of score, comment and area
 * follow the kind; OUTCOME_KEYS + 1-3 for an outcome, value and unit. Made once per
 * client and combination: the tuple every such queued event shares. Borrowed, NULL with an
 * exception. */
static PyObject *
attribute_keys(Recorder *self, int which)
{
    PyObject **slot = &self->attribute_keys[which];
    if (*slot != NULL)
        return *slot;
    /* Which attributes, in feedback_attributes' (or outcome's) order. */
    static const int feedback[] = {ATTR_KIND, ATTR_SCORE, ATTR_COMMENT, ATTR_AREA};
    static const int outcome[] = {ATTR_VALUE, ATTR_UNIT};
    int is_outcome = which >= OUTCOME_KEYS;
    const int *names = is_outcome ? outcome : feedback;
    int bits = is_outcome ? which - OUTCOME_KEYS : which << 1 | 1; /* feedback: the kind, always */
    int chosen[4], count = 0;
    for (int i = 0; i < (is_outcome ? 2 : 4); i++)
        if (bits >> i & 1)
            chosen[count++] = names[i];
    PyObject *keys = PyTuple_New(count);
    if (keys == NULL)
        return NULL;
    for (int i = 0; i < count; i++)
        PyTuple_SET_ITEM(keys, i, Py_NewRef(PyTuple_GET_ITEM(self->attribute_names, chosen[i])));
    *slot = keys;
    return keys;
}

static SeenKeywords seen_outcome[SEEN_SITES];
static PyObject **const OUTCOME_KEYWORDS[] = {
    &str_user_id, &str_account_id, &str_session_id, &str_properties, &str_timestamp,
    &str_value,   &str_unit,       NULL};

static PyObject *
Recorder_outcome(Recorder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *kw[7] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    PyObject *why = NULL, *slow = self->slow_outcome;
    if (!ready(self))
        return NULL;
    if (nargs != 1)
        return call_slow(self, slow, why_arguments, args, nargsf, kwnames);
    if (!parse_keywords(args, nargs, kwnames, OUTCOME_KEYWORDS, kw, seen_outcome))
        return call_slow(self, slow, why_keyword, args, nargsf, kwnames);
    PyObject *name = args[0], *value = kw[5], *unit = kw[6], *number = NULL;
    if (!PyUnicode_CheckExact(name) || !known_name(self, name) ||
        !plain_short(unit, self->max_name))
        return call_slow(self, slow, why_invalid, args, nargsf, kwnames);
    /* check_number: an exact int or a finite float, sent as a float. */
    if (value != NULL && value != Py_None) {
        double real;
        if (PyFloat_CheckExact(value))
            real = PyFloat_AS_DOUBLE(value);
        else if (PyLong_CheckExact(value))
            real = PyLong_AsDouble(value); /* OverflowError beyond the largest double */
        else
            return call_slow(self, slow, why_invalid, args, nargsf, kwnames);
        if (real == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return call_slow(self, slow, why_invalid, args, nargsf, kwnames);
        }
        if (!isfinite(real))
            return call_slow(self, slow, why_invalid, args, nargsf, kwnames);
        number = PyFloat_CheckExact(value) ? Py_NewRef(value) : PyFloat_FromDouble(real);
        if (number == NULL)
            return recover(self, slow, args, nargsf, kwnames);
    }
    /* The attributes outcome() builds (value, unit, in this order), packed (queued_packed). */
    Emitted event = {self->outcome_schema, name, NULL, Py_None, kw[0], kw[1], kw[2], kw[4], 0};
    int present = 0, count = 0;
    if (number != NULL) {
        present |= 1;
        event.attribute_values[count++] = number;
    }
    if (unit != NULL && unit != Py_None) {
        present |= 2;
        event.attribute_values[count++] = unit;
    }
    if (present && (event.attribute_keys = attribute_keys(self, OUTCOME_KEYS + present)) == NULL) {
        Py_XDECREF(number);
        return recover(self, slow, args, nargsf, kwnames);
    }
    PyObject *result = NULL;
    int ok = check_properties(self, kw[3], &event.body, &event.size, &why);
    if (ok > 0) {
        result = emit(self, &event, &why);
        Py_DECREF(event.body);
    }
    Py_XDECREF(number);
    if (ok < 0)
        return NULL;
    return finish(self, result, why, slow, args, nargsf, kwnames);
}

static SeenKeywords seen_feedback[SEEN_SITES];
static PyObject **const FEEDBACK_KEYWORDS[] = {
    &str_user_id, &str_account_id, &str_session_id, &str_properties,
    &str_timestamp, &str_score, &str_comment, &str_prompt_id, &str_area, NULL};

/* feedback_rule of events/_builtin.py: 1 when the feedback is valid. */
static int
valid_feedback(Recorder *self, PyObject *kind, PyObject *score, PyObject *comment)
{
    if (!PyUnicode_CheckExact(kind))
        return 0;
    PyObject *bounds = PyDict_GetItemWithError(self->feedback_scores, kind); /* borrowed */
    if (bounds == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (bounds == Py_None) { /* text: a comment with something besides whitespace */
        if ((score != NULL && score != Py_None) || comment == NULL ||
            !PyUnicode_CheckExact(comment))
            return 0;
        Py_ssize_t length = PyUnicode_GET_LENGTH(comment);
        int kind_of = PyUnicode_KIND(comment);
        const void *data = PyUnicode_DATA(comment);
        for (Py_ssize_t i = 0; i < length; i++)
            if (!Py_UNICODE_ISSPACE(PyUnicode_READ(kind_of, data, i)))
                return 1;
        return 0;
    }
    if (score == NULL || !PyLong_CheckExact(score) || !PyTuple_CheckExact(bounds) ||
        PyTuple_GET_SIZE(bounds) != 2)
        return 0;
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(score, &overflow);
    long long low = PyLong_AsLongLong(PyTuple_GET_ITEM(bounds, 0));
    long long high = PyLong_AsLongLong(PyTuple_GET_ITEM(bounds, 1));
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return !overflow && low <= value && value <= high;
}

static PyObject *
Recorder_feedback(Recorder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *kw[9] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    PyObject *why = NULL, *slow = self->slow_feedback;
    if (!ready(self))
        return NULL;
    if (nargs != 1)
        return call_slow(self, slow, why_arguments, args, nargsf, kwnames);
    if (!parse_keywords(args, nargs, kwnames, FEEDBACK_KEYWORDS, kw, seen_feedback))
        return call_slow(self, slow, why_keyword, args, nargsf, kwnames);
    PyObject *kind = args[0], *score = kw[5], *comment = kw[6];
    PyObject *prompt_id = kw[7], *area = kw[8];
    if (comment == Py_None)
        comment = NULL;
    if (!valid_feedback(self, kind, score, comment) || !plain_short(area, self->max_name) ||
        !plain_short(prompt_id, self->max_name) ||
        (comment != NULL && !PyUnicode_CheckExact(comment)))
        return call_slow(self, slow, why_invalid, args, nargsf, kwnames);
    /* An answer to a prompt is checked against the configuration and remembered by the
     * prompt engine (Python); a comment too long is cut and counted (Python). */
    if (prompt_id != NULL && prompt_id != Py_None)
        return call_slow(self, slow, why_prompt, args, nargsf, kwnames);
    if (comment != NULL && PyUnicode_GET_LENGTH(comment) > self->max_string)
        return call_slow(self, slow, why_long_comment, args, nargsf, kwnames);
    /* feedback_attributes: kind, score, comment, prompt id, area, in this order (no prompt
     * id here: answers to a prompt are the Python method's), packed (queued_packed). */
    Emitted event = {self->feedback_schema, kind, NULL, Py_None, kw[0], kw[1], kw[2], kw[4], 0};
    int present = 0, count = 0;
    event.attribute_values[count++] = kind;
    if (score != NULL && score != Py_None) {
        present |= 1;
        event.attribute_values[count++] = score;
    }
    if (comment != NULL) {
        present |= 2;
        event.attribute_values[count++] = comment;
    }
    if (area != NULL && area != Py_None) {
        present |= 4;
        event.attribute_values[count++] = area;
    }
    if ((event.attribute_keys = attribute_keys(self, present)) == NULL)
        return recover(self, slow, args, nargsf, kwnames);
    PyObject *result = NULL;
    int ok = check_properties(self, kw[3], &event.body, &event.size, &why);
    if (ok > 0) {
        if (comment != NULL) /* its str object's header is in ATTRIBUTES_BYTES */
            event.size += str_bytes(comment) - sizes.str;
        result = emit(self, &event, &why);
        Py_DECREF(event.body);
    }
    if (ok < 0)
        return NULL;
    return finish(self, result, why, slow, args, nargsf, kwnames);
}

/* Decision: a queued typed event is left out of the collector's walks when all it holds is
 * scalars: its field values (its __dict__, which CPython already leaves out then), the names
 * in __pydantic_fields_set__, and no extra or private attributes. Queued, the instance and
 * that set are two objects every collection pass would visit: in a 100k burst they brought
 * 3 full collections (290 ms) onto the recording thread (bench/burst.py, issue 15). An Event
 * is frozen, so nothing is stored in it after validation; the one cost is a cycle made
 * through it by force (object.__setattr__), which would not be collected. Memory-safe: the
 * deallocation of an untracked instance or set untracks nothing twice (PyObject_GC_UnTrack
 * checks). Only the C path does this; any doubt leaves the objects as they are. */
static void
untrack_typed(PyObject *event, PyObject *fields)
{
    if (PyObject_GC_IsTracked(fields) || !PyObject_GC_IsTracked(event))
        return;
    PyObject *names = PyObject_GetAttr(event, str_fields_set);
    if (names == NULL) {
        PyErr_Clear();
        return;
    }
    int plain = PySet_CheckExact(names);
    PyObject *iterator = plain ? PyObject_GetIter(names) : NULL, *name;
    while (iterator != NULL && plain && (name = PyIter_Next(iterator)) != NULL) {
        plain = PyUnicode_CheckExact(name);
        Py_DECREF(name);
    }
    Py_XDECREF(iterator);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        plain = 0;
    }
    PyObject *const checked[] = {str_extra, str_private};
    for (size_t i = 0; plain && i < 2; i++) {
        PyObject *value = PyObject_GetAttr(event, checked[i]);
        if (value == NULL)
            PyErr_Clear();
        plain = value == Py_None;
        Py_XDECREF(value);
    }
    if (plain) {
        PyObject_GC_UnTrack(names);
        PyObject_GC_UnTrack(event);
    }
    Py_DECREF(names);
}

/* wire_body of events/_plain.py: a copy of a typed event's fields when its class is plain
 * (the field count in __cs_plain_fields__, decided in Python at declaration; not plain: None)
 * and every value is an exact str, int, bool, None or finite float, packed as check_pairs
 * packs a milestone's properties (the queued tuple to be). NULL, with no exception set, for
 * the instance form: the same rule, only read here, so both paths queue the same event. */
static PyObject *
plain_body(Recorder *self, PyObject *type_dict, PyObject *fields)
{
    PyObject *count = PyDict_GetItemWithError(type_dict, str_plain_fields); /* borrowed */
    if (count == NULL || !PyLong_CheckExact(count) || !PyDict_CheckExact(fields) ||
        PyLong_AsSsize_t(count) != PyDict_GET_SIZE(fields)) {
        PyErr_Clear();
        return NULL;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(fields, &pos, &key, &value)) {
        if (PyFloat_CheckExact(value) ? !isfinite(PyFloat_AS_DOUBLE(value))
                                      : !(PyUnicode_CheckExact(value) ||
                                          PyLong_CheckExact(value) || PyBool_Check(value) ||
                                          value == Py_None))
            return NULL;
    }
    /* The copy is packed, as a milestone's properties are (check_pairs): the queued tuple
     * to be, its 13 fields empty but the layout's, and the fields' values after them, out
     * of the collector's sight (scalars only); the worker rebuilds the dict (_record.py). */
    Py_ssize_t entries = PyDict_GET_SIZE(fields);
    if (entries == 0) { /* no pairs to pack: an empty body, as in Python */
        PyObject *empty = PyDict_New();
        if (empty == NULL)
            PyErr_Clear();
        return empty;
    }
    PyObject *small[32];
    PyObject **keys = entries <= 32 ? small : PyMem_Malloc(entries * sizeof(PyObject *));
    PyObject *queued = keys == NULL ? NULL : PyTuple_New(packed_length(entries));
    Py_ssize_t taken = 0;
    if (queued != NULL) {
        PyObject_GC_UnTrack(queued);
        pos = 0; /* the same items, unless a finalizer run by the allocation changed them */
        while (taken < entries && PyDict_Next(fields, &pos, &key, &value)) {
            keys[taken] = Py_NewRef(key);
            PyTuple_SET_ITEM(queued, packed_at(taken), Py_NewRef(value));
            taken++;
        }
    }
    int ok = queued != NULL && taken == entries;
    for (Py_ssize_t at = 0; ok && at < taken; at++)
        ok = PyUnicode_CheckExact(keys[at]);
    PyObject *layout = ok ? layout_of(self, self->prefix != NULL ? self->prefix : Py_None,
                                      keys, taken)
                          : NULL;
    for (Py_ssize_t at = 0; at < taken; at++)
        Py_DECREF(keys[at]);
    if (keys != NULL && keys != small)
        PyMem_Free(keys);
    if (layout == NULL) { /* out of memory, say: the instance form, which needs nothing new */
        PyErr_Clear();
        Py_XDECREF(queued);
        return NULL;
    }
    PyTuple_SET_ITEM(queued, 4, layout);
    return queued;
}

static SeenKeywords seen_track[SEEN_SITES];
static PyObject **const TRACK_KEYWORDS[] = {&str_user_id, &str_account_id, &str_session_id,
                                            &str_timestamp, NULL};

static PyObject *
Recorder_track(Recorder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *kw[4] = {NULL, NULL, NULL, NULL};
    PyObject *why = NULL, *slow = self->slow_track;
    if (!ready(self))
        return NULL;
    if (nargs != 1)
        return call_slow(self, slow, why_arguments, args, nargsf, kwnames);
    if (!parse_keywords(args, nargs, kwnames, TRACK_KEYWORDS, kw, seen_track))
        return call_slow(self, slow, why_keyword, args, nargsf, kwnames);
    PyObject *event = args[0];
    /* cs_sdk.Event comes with pydantic, which init() does not load: until its module is in
     * sys.modules no instance can exist, so the call is an invalid one (Python says why). */
    if (!PyType_Check(self->event_type)) {
        PyObject *module = PyImport_GetModule(self->event_type);
        if (module == NULL) {
            if (PyErr_Occurred())
                return recover(self, slow, args, nargsf, kwnames);
            return call_slow(self, slow, why_invalid, args, nargsf, kwnames);
        }
        PyObject *cls = PyObject_GetAttrString(module, "Event");
        Py_DECREF(module);
        if (cls == NULL || !PyType_Check(cls)) {  /* a module still being imported */
            Py_XDECREF(cls);
            PyErr_Clear();
            return call_slow(self, slow, why_invalid, args, nargsf, kwnames);
        }
        Py_SETREF(self->event_type, cls);
    }
    /* isinstance(event, Event) and type(event).is_declared(): a real subclass (an ABC's
     * registered virtual subclass goes to Python) with __cs_schema__ in its own __dict__. */
    if (!PyObject_TypeCheck(event, (PyTypeObject *)self->event_type))
        return call_slow(self, slow, why_invalid, args, nargsf, kwnames);
    PyObject *type_dict = Py_TYPE(event)->tp_dict;
    PyObject *schema = type_dict == NULL
                           ? NULL
                           : PyDict_GetItemWithError(type_dict, str_cs_schema); /* borrowed */
    if (schema == NULL) {
        if (PyErr_Occurred())
            return recover(self, slow, args, nargsf, kwnames);
        return call_slow(self, slow, why_invalid, args, nargsf, kwnames);
    }
    if (!PyTuple_Check(schema) || PyTuple_GET_SIZE(schema) != 2 ||
        !PyUnicode_Check(PyTuple_GET_ITEM(schema, 0)))
        return call_slow(self, slow, why_state, args, nargsf, kwnames);
    Py_INCREF(schema);
    /* TYPED_EVENT_BYTES + estimated_bytes(event.__dict__): the instance, and the fields as
     * pydantic validated them; a plain event's copy: estimated_bytes(copy) alone. */
    PyObject *fields = PyObject_GenericGetDict(event, NULL);
    if (fields == NULL) {
        Py_DECREF(schema);
        return recover(self, slow, args, nargsf, kwnames);
    }
    /* A plain class's event is queued as a copy of its fields, its wire body: the instance
     * (and its __pydantic_fields_set__) die with the caller's statement (events/_plain.py). */
    PyObject *body = plain_body(self, type_dict, fields);
    Emitted emitted = {schema, PyTuple_GET_ITEM(schema, 0), body ? body : event, Py_None,
                       kw[0],  kw[1], kw[2], kw[3], body ? 0 : self->typed_bytes};
    PyObject *result = NULL;
    /* The estimate of the fields themselves: what the copy the Python path queues holds. */
    if (estimate(self, fields, 0, &emitted.size, &why)) {
        result = emit(self, &emitted, &why);
        if (body == NULL && result != NULL && result != Py_None)
            untrack_typed(event, fields);
    }
    Py_XDECREF(body);
    Py_DECREF(fields);
    Py_DECREF(schema);
    return finish(self, result, why, slow, args, nargsf, kwnames);
}

static int intern(PyObject **slot, const char *text);

/* The keywords of outcome/feedback/track, the typed events' schema attribute, and the
 * fallback reasons. */
static int
intern_recorder_names(void)
{
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {
        {&str_value, "value"},
        {&str_unit, "unit"},
        {&str_score, "score"},
        {&str_comment, "comment"},
        {&str_prompt_id, "prompt_id"},
        {&str_area, "area"},
        {&str_cs_schema, "__cs_schema__"},
        {&str_fields_set, "__pydantic_fields_set__"},
        {&str_extra, "__pydantic_extra__"},
        {&str_private, "__pydantic_private__"},
        {&str_plain_fields, "__cs_plain_fields__"},
        {&why_arguments, "arguments"},
        {&why_keyword, "keyword_unknown"},
        {&why_invalid, "invalid"},
        {&why_timestamp, "timestamp_datetime"},
        {&why_properties, "properties_not_dict"},
        {&why_value, "value_to_convert"},
        {&why_deep, "nested_too_deep"},
        {&why_watched, "watched_milestone"},
        {&why_prompt, "prompt_answer"},
        {&why_long_comment, "comment_truncated"},
        {&why_opted_out, "opted_out"},
        {&why_state, "client_state"},
        {&why_error, "error"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (intern(names[i].slot, names[i].text) < 0)
            return -1;
    return 0;
}

/* The EventQueue's attributes (and its threading.Event's) that queue_submit() reads. */
static int
intern_queue_names(void)
{
    return intern(&str_items, "items") < 0 || intern(&str_held, "held") < 0 ||
                   intern(&str_bytes_in, "bytes_in") < 0 ||
                   intern(&str_bytes_out, "bytes_out") < 0 || intern(&str_closed, "closed") < 0 ||
                   intern(&str_max_size, "_max_size") < 0 ||
                   intern(&str_max_bytes, "_max_bytes") < 0 ||
                   intern(&str_batch_size, "_batch_size") < 0 || intern(&str_wake, "_wake") < 0 ||
                   intern(&str_flag, "_flag") < 0 || intern(&str_set, "set") < 0 ||
                   intern(&str_is_set, "is_set") < 0
               ? -1
               : 0;
}

static PyMethodDef Recorder_methods[] = {
    {"milestone", (PyCFunction)(void (*)(void))Recorder_milestone,
     METH_FASTCALL | METH_KEYWORDS,
     "Client.milestone(), accelerated: the same arguments, the same result."},
    {"outcome", (PyCFunction)(void (*)(void))Recorder_outcome, METH_FASTCALL | METH_KEYWORDS,
     "Client.outcome(), accelerated: the same arguments, the same result."},
    {"feedback", (PyCFunction)(void (*)(void))Recorder_feedback,
     METH_FASTCALL | METH_KEYWORDS,
     "Client.feedback(), accelerated: the same arguments, the same result."},
    {"track", (PyCFunction)(void (*)(void))Recorder_track, METH_FASTCALL | METH_KEYWORDS,
     "Client.track(), accelerated: the same arguments, the same result."},
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

/* unpack(queued): (event id, time, body, attributes) of a packed queued event (_record.py,
 * the packed form), for record_of on the worker: the id from the prefix in the layout and
 * the low 64 bits of the stamp (as event_id() formats them), the time from its high bits,
 * the body rebuilt from the layout's keys and the values in their order (None for a layout
 * of no keys; a value packed by check_packed rebuilt into its dict), the attributes from
 * their keys and the values after the body's (None without keys). A fraction of what the same costs in Python there, which runs once per
 * event the worker takes. _record.py's _unpack is the reference
 * (tests/reliability/test_queued_packed.py compares the two). */
static PyObject *
rebuilt_dict(PyObject *keys, Py_ssize_t from, PyObject *queued, Py_ssize_t first, int nested)
{
    PyObject *made = PyDict_New();
    for (Py_ssize_t i = from; made != NULL && i < PyTuple_GET_SIZE(keys); i++) {
        PyObject *value = PyTuple_GET_ITEM(queued, packed_at(first + i - from));
        if (nested && PyTuple_CheckExact(value)) { /* a dict packed by check_packed */
            PyObject *layout = PyTuple_GET_SIZE(value) > 0 ? PyTuple_GET_ITEM(value, 0) : NULL;
            if (layout == NULL || !PyTuple_CheckExact(layout) ||
                PyTuple_GET_SIZE(layout) != PyTuple_GET_SIZE(value)) {
                PyErr_SetString(PyExc_ValueError, "not a packed dict");
                Py_CLEAR(made);
                break;
            }
            PyObject *inner = PyDict_New();
            for (Py_ssize_t j = 1; inner != NULL && j < PyTuple_GET_SIZE(value); j++)
                if (PyDict_SetItem(inner, PyTuple_GET_ITEM(layout, j),
                                   PyTuple_GET_ITEM(value, j)) < 0)
                    Py_CLEAR(inner);
            if (inner == NULL || PyDict_SetItem(made, PyTuple_GET_ITEM(keys, i), inner) < 0)
                Py_CLEAR(made);
            Py_XDECREF(inner);
            continue;
        }
        if (PyDict_SetItem(made, PyTuple_GET_ITEM(keys, i), value) < 0)
            Py_CLEAR(made);
    }
    return made;
}

static PyObject *
unpack(PyObject *module, PyObject *queued)
{
    Py_ssize_t size = PyTuple_Check(queued) ? PyTuple_GET_SIZE(queued) : -1;
    PyObject *layout = size >= 13 ? PyTuple_GET_ITEM(queued, 4) : NULL;
    PyObject *keys = size >= 13 ? PyTuple_GET_ITEM(queued, PACKED_ATTRIBUTES) : NULL;
    PyObject *stamp = size >= 13 ? PyTuple_GET_ITEM(queued, 0) : NULL;
    Py_ssize_t values = layout != NULL && PyTuple_CheckExact(layout) ? PyTuple_GET_SIZE(layout) - 1
                                                                     : -1;
    Py_ssize_t attributes = keys == Py_None            ? 0
                            : keys != NULL && PyTuple_CheckExact(keys) ? PyTuple_GET_SIZE(keys)
                                                                       : -1;
    if (values < 0 || attributes < 0 || packed_length(values + attributes) != size ||
        stamp == NULL || !PyLong_Check(stamp) ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(layout, 0)) ||
        !PyUnicode_IS_ASCII(PyTuple_GET_ITEM(layout, 0))) {
        PyErr_SetString(PyExc_ValueError, "not a packed queued event");
        return NULL;
    }
    unsigned long long low = PyLong_AsUnsignedLongLongMask(stamp);
    if (low == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    PyObject *prefix = PyTuple_GET_ITEM(layout, 0);
    Py_ssize_t length = PyUnicode_GET_LENGTH(prefix);
    PyObject *unpacked = PyTuple_New(4);
    PyObject *id = unpacked == NULL ? NULL : PyUnicode_New(length + 16, 127);
    if (id == NULL) {
        Py_XDECREF(unpacked);
        return NULL;
    }
    PyTuple_SET_ITEM(unpacked, 0, id);
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(id);
    memcpy(out, PyUnicode_1BYTE_DATA(prefix), length);
    for (int i = 15; i >= 0; i--, low >>= 4)
        out[length + i] = HEX[low & 15];
    PyObject *items[3] = {PyNumber_Rshift(stamp, sixty_four),
                          values > 0 ? rebuilt_dict(layout, 1, queued, 0, 1) : Py_NewRef(Py_None),
                          attributes > 0 ? rebuilt_dict(keys, 0, queued, values, 0)
                                         : Py_NewRef(Py_None)};
    for (int i = 0; i < 3; i++) {
        if (items[i] == NULL) {
            for (int j = 0; j < 3; j++)
                Py_XDECREF(items[j]);
            Py_DECREF(unpacked);
            return NULL;
        }
    }
    for (int i = 0; i < 3; i++)
        PyTuple_SET_ITEM(unpacked, i + 1, items[i]);
    return unpacked;
}

static PyMethodDef speedups_functions[] = {
    {"set_sizes", set_sizes, METH_O,
     "set_sizes(_validate.SIZES): the constants of the queue's byte estimate."},
    {"unpack", unpack, METH_O,
     "unpack(queued): (event id, time, body, attributes) of a packed queued event (_record.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cs_sdk._speedups",
    .m_doc = "The recording hot path in C (optional; see _speedups.c).",
    .m_size = -1,
    .m_methods = speedups_functions,
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
    fill_hex_pairs();
    if (intern(&str_user_id, "user_id") < 0 || intern(&str_account_id, "account_id") < 0 ||
        intern(&str_session_id, "session_id") < 0 ||
        intern(&str_properties, "properties") < 0 ||
        intern(&str_timestamp, "timestamp") < 0 || intern(&str_submit, "_submit") < 0 ||
        intern(&str_opted_out, "_opted_out") < 0 || intern(&str_id_high, "_id_high") < 0 ||
        intern(&str_next_seq, "_next_seq") < 0 ||
        intern(&str_internal_error, "_internal_error") < 0 ||
        intern(&str_watched, "_watched") < 0 || intern_queue_names() < 0 ||
        intern_recorder_names() < 0)
        return NULL;
    zero = PyLong_FromLong(0);
    sixty_four = PyLong_FromLong(64);
    PyObject *time_module = PyImport_ImportModule("time");
    time_time_ns = time_module == NULL ? NULL : PyObject_GetAttrString(time_module, "time_ns");
    Py_XDECREF(time_module);
    if (zero == NULL || sixty_four == NULL || time_time_ns == NULL ||
        PyType_Ready(&RecorderType) < 0)
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
