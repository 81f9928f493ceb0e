'use strict';

// Looks up a validator module by name with a dynamic require. Node caches
// modules, so this always hands back the same shared module object.
module.exports = function validators(name) {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new Error(`invalid validator name: ${name}`);
  }
  return require(`./validators/${name}`);
};
