/*
 * i2c_transfer: one combined I2C transaction (write, repeated START, read) through the Linux
 * i2c-dev I2C_RDWR ioctl, for a file descriptor of /dev/i2c-N.
 *
 *   writeRead(fd, address, writeBuffer, readBuffer, callback)
 *
 * i2c-bus has no combined transfer, and a STOP between the register address and the read makes
 * the MLX90640 forget the address, so this is the one thing we do ourselves. The ioctl blocks
 * for the whole transfer (about 15 ms for a frame), so it runs on the libuv thread pool and
 * `callback(err)` comes back on the main thread: `null` on success, else an Error whose `code`
 * is the errno name (EIO, ENXIO, EREMOTEIO, ETIMEDOUT, ENOTTY ...), `errno` the negative errno
 * (as Node's own system errors have it) and `message` strerror's text. Bad arguments throw a
 * TypeError synchronously. On other systems than Linux every call fails with ENOSYS.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#ifdef __linux__
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <sys/ioctl.h>
#endif

/* 7-bit addresses only: the MLX90640 and its kind do not use 10-bit addressing. */
#define MAX_ADDRESS 0x7f
/* i2c_msg.len is 16 bits wide; i2c-dev itself refuses messages over 8192 bytes with EINVAL. */
#define MAX_MESSAGE_BYTES 0xffff

typedef struct {
  napi_async_work work;
  napi_ref callback;
  /* The caller's readBuffer, held until the transfer ends and filled then. */
  napi_ref read_target;
  int fd;
  uint16_t address;
  /*
   * The pool thread works on private copies, never on JavaScript memory: JavaScript keeps
   * running meanwhile and could change, transfer or detach its buffers, and then the thread
   * would write into memory that is gone. The read bytes reach readBuffer on the main thread.
   */
  uint8_t *write_bytes;
  size_t write_length;
  uint8_t *read_bytes;
  size_t read_length;
  /* errno of the failed ioctl, 0 on success */
  int error;
} Transfer;

/* Not strerrorname_np: that is glibc 2.32+ only. These are the codes i2c adapters and i2c-dev give. */
static const char *errno_name(int error) {
  switch (error) {
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
#ifdef EREMOTEIO
    case EREMOTEIO: return "EREMOTEIO";
#endif
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENOTTY: return "ENOTTY";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    case EBUSY: return "EBUSY";
    case EINTR: return "EINTR";
    case ENODEV: return "ENODEV";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
    case ENOTSUP: return "ENOTSUP";
#endif
    case EPROTO: return "EPROTO";
    case EBADMSG: return "EBADMSG";
    case EOVERFLOW: return "EOVERFLOW";
#ifdef ESHUTDOWN
    case ESHUTDOWN: return "ESHUTDOWN";
#endif
#ifdef ECOMM
    case ECOMM: return "ECOMM";
#endif
    case ECANCELED: return "ECANCELED";
    default: return "UNKNOWN";
  }
}

/* Throws a generic Error for a failed Node-API call (these do not fail with valid arguments). */
#define NAPI_CHECK(env, call)                                                      \
  do {                                                                             \
    if ((call) != napi_ok) {                                                       \
      const napi_extended_error_info *info_ = NULL;                                \
      napi_get_last_error_info((env), &info_);                                     \
      bool pending_;                                                               \
      napi_is_exception_pending((env), &pending_);                                 \
      if (!pending_) {                                                             \
        napi_throw_error((env), NULL,                                              \
                         info_ && info_->error_message ? info_->error_message      \
                                                       : "Node-API call failed"); \
      }                                                                            \
      return NULL;                                                                 \
    }                                                                              \
  } while (0)

static napi_value throw_type_error(napi_env env, const char *code, const char *message) {
  napi_throw_type_error(env, code, message);
  return NULL;
}

/* A JavaScript number that is an integer in [min, max]. */
static bool get_integer(napi_env env, napi_value value, double min, double max, double *result) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) return false;
  if (napi_get_value_double(env, value, result) != napi_ok) return false;
  /* NaN fails both comparisons */
  if (!(*result >= min && *result <= max)) return false;
  return (double)(int64_t)*result == *result;
}

/* A Uint8Array (Buffer is one) of 1 to MAX_MESSAGE_BYTES bytes. */
static bool get_bytes(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_typed_array;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return false;
  napi_typedarray_type type;
  void *bytes;
  if (napi_get_typedarray_info(env, value, &type, length, &bytes, NULL, NULL) != napi_ok) return false;
  if (type != napi_uint8_array || *length < 1 || *length > MAX_MESSAGE_BYTES) return false;
  *data = bytes;
  return true;
}

static void free_transfer(napi_env env, Transfer *transfer) {
  if (transfer->callback != NULL) napi_delete_reference(env, transfer->callback);
  if (transfer->read_target != NULL) napi_delete_reference(env, transfer->read_target);
  if (transfer->work != NULL) napi_delete_async_work(env, transfer->work);
  free(transfer->write_bytes);
  free(transfer->read_bytes);
  free(transfer);
}

/* On a pool thread: no Node-API calls here. */
static void execute(napi_env env, void *data) {
  (void)env;
  Transfer *transfer = data;
#ifdef __linux__
  struct i2c_msg messages[2] = {
    { .addr = transfer->address, .flags = 0, .len = (uint16_t)transfer->write_length, .buf = transfer->write_bytes },
    { .addr = transfer->address, .flags = I2C_M_RD, .len = (uint16_t)transfer->read_length, .buf = transfer->read_bytes }
  };
  struct i2c_rdwr_ioctl_data request = { .msgs = messages, .nmsgs = 2 };
  /* One ioctl, so the adapter sends a repeated START between the messages and one STOP at the end. */
  int result = ioctl(transfer->fd, I2C_RDWR, &request);
  if (result < 0) {
    transfer->error = errno;
  } else if (result != 2) {
    /* The ioctl returns how many messages went through; fewer than both is a failed read. */
    transfer->error = EIO;
  }
#else
  transfer->error = ENOSYS;
#endif
}

static napi_value errno_error(napi_env env, int error) {
  napi_value code, message, result, errno_value, syscall;
  NAPI_CHECK(env, napi_create_string_utf8(env, errno_name(error), NAPI_AUTO_LENGTH, &code));
  /* strerror is not thread-safe; this runs on the main thread only. */
  NAPI_CHECK(env, napi_create_string_utf8(env, strerror(error), NAPI_AUTO_LENGTH, &message));
  NAPI_CHECK(env, napi_create_error(env, code, message, &result));
  NAPI_CHECK(env, napi_create_int32(env, -error, &errno_value));
  NAPI_CHECK(env, napi_set_named_property(env, result, "errno", errno_value));
  NAPI_CHECK(env, napi_create_string_utf8(env, "ioctl", NAPI_AUTO_LENGTH, &syscall));
  NAPI_CHECK(env, napi_set_named_property(env, result, "syscall", syscall));
  return result;
}

/* Copies the read bytes into readBuffer; an Error if that buffer no longer has the size it had. */
static napi_value deliver(napi_env env, Transfer *transfer) {
  napi_value target;
  NAPI_CHECK(env, napi_get_reference_value(env, transfer->read_target, &target));
  uint8_t *bytes;
  size_t length;
  if (!get_bytes(env, target, &bytes, &length) || length != transfer->read_length) {
    napi_value code, message, result;
    NAPI_CHECK(env, napi_create_string_utf8(env, "ERR_INVALID_STATE", NAPI_AUTO_LENGTH, &code));
    NAPI_CHECK(env, napi_create_string_utf8(env, "readBuffer was detached or resized during the transfer",
                                            NAPI_AUTO_LENGTH, &message));
    NAPI_CHECK(env, napi_create_error(env, code, message, &result));
    return result;
  }
  memcpy(bytes, transfer->read_bytes, length);
  napi_value nothing;
  NAPI_CHECK(env, napi_get_null(env, &nothing));
  return nothing;
}

/* Back on the main thread: fill readBuffer, call back, let go of everything. */
static void complete(napi_env env, napi_status status, void *data) {
  Transfer *transfer = data;
  if (status == napi_cancelled && transfer->error == 0) transfer->error = ECANCELED;
  napi_value argument = transfer->error != 0 ? errno_error(env, transfer->error) : deliver(env, transfer);
  napi_value callback, receiver;
  if (argument != NULL &&
      napi_get_reference_value(env, transfer->callback, &callback) == napi_ok &&
      napi_get_undefined(env, &receiver) == napi_ok) {
    /* An exception the callback throws stays pending and Node reports it as uncaught. */
    napi_call_function(env, receiver, callback, 1, &argument, NULL);
  }
  free_transfer(env, transfer);
}

static napi_value write_read(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    return throw_type_error(env, "ERR_MISSING_ARGS",
                            "writeRead(fd, address, writeBuffer, readBuffer, callback) takes 5 arguments");
  }
  double fd, address;
  if (!get_integer(env, argv[0], 0, INT32_MAX, &fd)) {
    return throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fd must be a file descriptor (an integer >= 0)");
  }
  if (!get_integer(env, argv[1], 0, MAX_ADDRESS, &address)) {
    return throw_type_error(env, "ERR_INVALID_ARG_TYPE", "address must be a 7-bit I2C address (an integer 0 to 127)");
  }
  uint8_t *write_data, *read_data;
  size_t write_length, read_length;
  if (!get_bytes(env, argv[2], &write_data, &write_length)) {
    return throw_type_error(env, "ERR_INVALID_ARG_TYPE", "writeBuffer must be a Uint8Array of 1 to 65535 bytes");
  }
  if (!get_bytes(env, argv[3], &read_data, &read_length)) {
    return throw_type_error(env, "ERR_INVALID_ARG_TYPE", "readBuffer must be a Uint8Array of 1 to 65535 bytes");
  }
  (void)read_data;
  napi_valuetype callback_type;
  NAPI_CHECK(env, napi_typeof(env, argv[4], &callback_type));
  if (callback_type != napi_function) {
    return throw_type_error(env, "ERR_INVALID_ARG_TYPE", "callback must be a function");
  }

  Transfer *transfer = calloc(1, sizeof(Transfer));
  if (transfer == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  transfer->fd = (int)fd;
  transfer->address = (uint16_t)address;
  transfer->write_length = write_length;
  transfer->read_length = read_length;
  transfer->write_bytes = malloc(write_length);
  transfer->read_bytes = calloc(1, read_length);
  if (transfer->write_bytes == NULL || transfer->read_bytes == NULL) {
    free_transfer(env, transfer);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  memcpy(transfer->write_bytes, write_data, write_length);

  napi_value resource_name;
  if (napi_create_reference(env, argv[4], 1, &transfer->callback) != napi_ok ||
      napi_create_reference(env, argv[3], 1, &transfer->read_target) != napi_ok ||
      napi_create_string_utf8(env, "I2cWriteRead", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_async_work(env, NULL, resource_name, execute, complete, transfer, &transfer->work) != napi_ok ||
      napi_queue_async_work(env, transfer->work) != napi_ok) {
    free_transfer(env, transfer);
    napi_throw_error(env, NULL, "could not queue the I2C transfer");
    return NULL;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value function;
  NAPI_CHECK(env, napi_create_function(env, "writeRead", NAPI_AUTO_LENGTH, write_read, NULL, &function));
  NAPI_CHECK(env, napi_set_named_property(env, exports, "writeRead", function));
  return exports;
}
