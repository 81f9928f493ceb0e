'use strict';
// Placeholder replaced below.
class Controllers { constructor(server) { this.server = server; } stop() {} orphan() {} foreground() {} onDeleted() {} }
module.exports = { Controllers };
