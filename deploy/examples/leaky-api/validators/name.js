'use strict';

// A "name" validator. Like every module, the object exported here is created
// once and then cached by require(): every require('./validators/name')
// returns this very same object for the lifetime of the process.
const MAX_LENGTH = 64;

module.exports = {
  validate(value) {
    if (typeof value !== 'string') {
      return { valid: false, reason: 'name must be a string' };
    }
    const trimmed = value.trim();
    if (trimmed.length === 0) {
      return { valid: false, reason: 'name must not be empty' };
    }
    if (trimmed.length > MAX_LENGTH) {
      return { valid: false, reason: `name must be at most ${MAX_LENGTH} characters` };
    }
    return { valid: true };
  },
};
