#!/usr/bin/env node
// dynalite with TransactWriteItems: the tests' DynamoDB.
//
// dynalite (pinned in package.json) serves every operation the project uses
// except TransactWriteItems. This file starts dynalite as its own cli.js does
// (its flags, each as --name value) and answers TransactWriteItems itself, on
// dynalite's own store, with DynamoDB's documented behaviour:
//   - 1 to 100 actions, each exactly one of ConditionCheck, Put, Update or
//     Delete; an Update applies its UpdateExpression with dynalite's own
//     UpdateItem code (SET with arithmetic, if_not_exists and list_append,
//     REMOVE, ADD, DELETE), creating the item when there is none, as
//     UpdateItem does;
//   - no two actions on the same item (ValidationException);
//   - every condition is evaluated against the items as they are, under the
//     locks dynalite's own writes take, and only if all hold are the writes
//     applied, in one LevelDB batch: readers see all of them or none;
//   - otherwise TransactionCanceledException with one CancellationReason per
//     action, in order (ConditionalCheckFailed or None; the old item when
//     ReturnValuesOnConditionCheckFailure is ALL_OLD); an Update whose
//     expression cannot apply to the item (a number added to a string, say)
//     or whose result passes the 400 KB item limit cancels the transaction
//     with ValidationError as its reason;
//   - a ClientRequestToken that succeeded in the last 10 minutes makes the
//     same request succeed again without writing (the SDK's retry of a
//     transaction whose answer was lost), and a different request under it
//     IdempotentParameterMismatchException.
// Requests for every other operation go to dynalite unchanged.

var path = require('path'),
  argv = flags(process.argv.slice(2)),
  db = require(path.join(__dirname, 'node_modules', 'dynalite', 'db')),
  validations = require(path.join(__dirname, 'node_modules', 'dynalite', 'validations')),
  dynalite = require(path.join(__dirname, 'node_modules', 'dynalite'))

var store
var create = db.create
db.create = function (options) { return (store = create(options)) }

var MAX_ACTIONS = 100, TOKEN_TTL_MS = 10 * 60 * 1000
var tokens = new Map() // ClientRequestToken -> { body, at }

var server = dynalite(argv)
var dynaliteHandler = server.listeners('request')[0]
server.removeAllListeners('request')
server.on('request', function (req, res) {
  if (!/\.TransactWriteItems$/.test(req.headers['x-amz-target'] || '')) return dynaliteHandler(req, res)
  var chunks = []
  req.on('data', function (c) { chunks.push(c) })
  req.on('end', function () {
    var data
    try {
      data = JSON.parse(Buffer.concat(chunks).toString() || '{}')
    }
    catch {
      return send(res, 400, { __type: 'com.amazon.coral.service#SerializationException' })
    }
    transactWriteItems(data, function (err, out) {
      if (err && err.statusCode) return send(res, err.statusCode, err.body)
      if (err) return send(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(err) })
      send(res, 200, out)
    })
  })
})

server.listen(argv.port || 4567, argv.host || undefined, function () {
  var address = server.address()
  console.log('Dynalite listening at: http://%s:%s', argv.host || 'localhost', address.port)
})

// flags reads cli.js's flags, each --name value; numbers become numbers.
function flags (args) {
  var out = {}
  for (var i = 0; i + 1 < args.length; i += 2) {
    var value = args[i + 1]
    out[args[i].replace(/^--/, '')] = /^\d+$/.test(value) ? Number(value) : value
  }
  return out
}

function send (res, status, body) {
  var text = JSON.stringify(body)
  res.statusCode = status
  res.setHeader('Content-Type', 'application/x-amz-json-1.0')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.end(text)
}

function validationError (msg) { return db.validationError(msg) }

// The single-item operation whose validation (types, expressions) an action
// shares, and the fields it carries.
var putItem = require(path.join(__dirname, 'node_modules', 'dynalite', 'validations', 'putItem')),
  deleteItem = require(path.join(__dirname, 'node_modules', 'dynalite', 'validations', 'deleteItem')),
  updateItem = require(path.join(__dirname, 'node_modules', 'dynalite', 'validations', 'updateItem'))
var kinds = {
  ConditionCheck: { spec: deleteItem, key: 'Key' },
  Put: { spec: putItem, key: 'Item' },
  Update: { spec: updateItem, key: 'Key' },
  Delete: { spec: deleteItem, key: 'Key' },
}

// dynalite's UpdateItem keeps the code that applies an update expression to
// an item private to its module; the module is loaded again here with those
// functions exported, so that an Update action changes an item exactly as
// UpdateItem would.
var updateCode = privateFunctions(path.join(__dirname, 'node_modules', 'dynalite', 'actions', 'updateItem.js'),
  [ 'applyUpdateExpression', 'deepClone' ])

function privateFunctions (file, names) {
  var Module = require('module'), fs = require('fs')
  var m = new Module(file, module)
  m.filename = file
  m.paths = Module._nodeModulePaths(path.dirname(file))
  m._compile(fs.readFileSync(file, 'utf8') + '\nmodule.exports = { ' +
    names.map(function (n) { return n + ': ' + n }).join(', ') + ' }\n', file)
  names.forEach(function (n) {
    if (typeof m.exports[n] != 'function') throw new Error(file + ' has no function ' + n + ': the pinned dynalite changed')
  })
  return m.exports
}

function transactWriteItems (data, cb) {
  var items = data.TransactItems
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_ACTIONS)
    return cb(validationError('1 validation error detected: Value at \'transactItems\' failed to satisfy constraint: ' +
      'Member must have length less than or equal to ' + MAX_ACTIONS + ' and greater than or equal to 1'))

  var token = data.ClientRequestToken, body = canonical(items)
  if (token != null) {
    var seen = tokens.get(token)
    if (seen && Date.now() - seen.at < TOKEN_TTL_MS) {
      if (seen.body !== body) return cb(idempotentMismatch())
      return cb(null, {})
    }
  }

  var actions = []
  for (var i = 0; i < items.length; i++) {
    var names = Object.keys(items[i] || {})
    if (names.length != 1) return cb(validationError('TransactItems can only contain one of ConditionCheck, Put, Update or Delete'))
    var name = names[0]
    var kind = kinds[name]
    if (!kind) return cb(validationError('TransactItems can only contain one of ConditionCheck, Put, Update or Delete'))
    var raw = Object.assign({}, items[i][name]), returnOld = raw.ReturnValuesOnConditionCheckFailure == 'ALL_OLD'
    delete raw.ReturnValuesOnConditionCheckFailure
    if (name == 'ConditionCheck' && !raw.ConditionExpression)
      return cb(validationError('The parameter \'ConditionExpression\' is required but was not present in the request'))
    if (name == 'Update' && !raw.UpdateExpression)
      return cb(validationError('The parameter \'UpdateExpression\' is required but was not present in the request'))
    var parsed
    try {
      parsed = validations.checkTypes(raw, kind.spec.types)
      validations.checkValidations(parsed, kind.spec.types, kind.spec.custom, store)
    }
    catch (err) {
      return cb(err)
    }
    actions.push({ name: name, data: parsed, returnOld: returnOld })
  }

  var tableNames = Array.from(new Set(actions.map(function (a) { return a.data.TableName })))
  getTables(tableNames, {}, function (err, tables) {
    if (err) return cb(err)
    var seenKeys = new Set()
    for (var i = 0; i < actions.length; i++) {
      var a = actions[i], table = tables[a.data.TableName], k = kinds[a.name].key
      var invalid = k == 'Item' ? db.validateItem(a.data.Item, table) : db.validateKey(a.data.Key, table)
      if (!invalid && a.name == 'Update') invalid = db.validateUpdates(a.data.AttributeUpdates, a.data._updates, table)
      if (invalid) return cb(invalid)
      a.table = table
      a.key = db.createKey(a.data[k], table)
      var id = a.data.TableName + '\u0000' + a.key
      if (seenKeys.has(id)) return cb(validationError('Transaction request cannot include multiple operations on one item'))
      seenKeys.add(id)
    }
    // Lock in one order (table, key), so that two transactions never wait on each other.
    var order = actions.slice().sort(function (x, y) {
      return x.data.TableName < y.data.TableName ? -1 : x.data.TableName > y.data.TableName ? 1 :
        x.key < y.key ? -1 : x.key > y.key ? 1 : 0
    })
    lockAll(order, 0, [], function (releases) {
      function done (err, out) {
        releases.forEach(function (release) { release() })
        cb(err, out)
      }
      readAll(actions, 0, function (err) {
        if (err) return done(err)
        var failed = false
        var reasons = actions.map(function (a) {
          if (db.checkConditional(a.data, a.existing) != null) {
            failed = true
            var reason = { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }
            if (a.returnOld && a.existing) reason.Item = a.existing
            return reason
          }
          if (a.name == 'Update') {
            var invalid = updated(a)
            if (invalid) {
              failed = true
              return { Code: 'ValidationError', Message: invalid.body ? invalid.body.message : String(invalid) }
            }
          }
          return { Code: 'None' }
        })
        if (failed) return done(canceled(reasons))
        store.db.batch(writes(actions), function (err) {
          if (err) return done(err)
          if (token != null) remember(token, body)
          done(null, {})
        })
      })
    })
  })
}

function getTables (names, out, cb) {
  if (!names.length) return cb(null, out)
  store.getTable(names[0], function (err, table) {
    if (err) return cb(err)
    out[names[0]] = table
    getTables(names.slice(1), out, cb)
  })
}

function lockAll (actions, i, releases, cb) {
  if (i == actions.length) return cb(releases)
  store.getItemDb(actions[i].data.TableName).lock(actions[i].key, function (release) {
    releases.push(release(function () {}))
    lockAll(actions, i + 1, releases, cb)
  })
}

function readAll (actions, i, cb) {
  if (i == actions.length) return cb()
  store.getItemDb(actions[i].data.TableName).get(actions[i].key, function (err, item) {
    if (err && err.name != 'NotFoundError') return cb(err)
    actions[i].existing = item || undefined
    readAll(actions, i + 1, cb)
  })
}

// updated sets a.item to what a's update expression makes of the item as it
// is (or of its key alone, when there is none), or returns the error that
// stops it.
function updated (a) {
  var item = a.existing ? updateCode.deepClone(a.existing) : updateCode.deepClone(a.data.Key)
  var err = updateCode.applyUpdateExpression(a.data._updates.sections, a.table, item)
  if (err) return err
  if (db.itemSize(item) > store.options.maxItemSize)
    return validationError('Item size to update has exceeded the maximum allowed size')
  a.item = item
  return null
}

// writes is the LevelDB batch of every Put, Update and Delete with its index entries,
// under the key prefixes dynalite's store gives its item and index databases.
function writes (actions) {
  var ops = []
  actions.forEach(function (a) {
    if (a.name == 'ConditionCheck') return
    var item = a.name == 'Put' ? a.data.Item : a.name == 'Update' ? a.item : null, table = a.table
    ops.push(item ? { type: 'put', key: 'item-' + table.TableName + '~' + a.key, value: item } :
      { type: 'del', key: 'item-' + table.TableName + '~' + a.key })
    ;[ 'Local', 'Global' ].forEach(function (indexType) {
      var changes = db.getIndexActions(table[indexType + 'SecondaryIndexes'] || [], a.existing, item, table)
      var prefix = function (index) { return 'index-' + indexType.toLowerCase() + '~' + table.TableName + '~' + index + '~' }
      changes.deletes.forEach(function (d) { ops.push({ type: 'del', key: prefix(d.index) + d.key }) })
      changes.puts.forEach(function (p) { ops.push({ type: 'put', key: prefix(p.index) + p.key, value: p.item }) })
    })
  })
  return ops
}

// canonical is v as JSON with every object's keys sorted: the same request
// whatever order a client wrote its maps in.
function canonical (v) {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']'
  if (v && typeof v == 'object') {
    return '{' + Object.keys(v).sort().map(function (k) { return JSON.stringify(k) + ':' + canonical(v[k]) }).join(',') + '}'
  }
  return JSON.stringify(v)
}

function remember (token, body) {
  var now = Date.now()
  tokens.forEach(function (seen, t) { if (now - seen.at >= TOKEN_TTL_MS) tokens.delete(t) })
  tokens.set(token, { body: body, at: now })
}

function canceled (reasons) {
  var err = new Error('transaction canceled')
  err.statusCode = 400
  err.body = {
    __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
    Message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [' +
      reasons.map(function (r) { return r.Code }).join(', ') + ']',
    CancellationReasons: reasons,
  }
  return err
}

function idempotentMismatch () {
  var err = new Error('idempotent parameter mismatch')
  err.statusCode = 400
  err.body = {
    __type: 'com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException',
    message: 'Request parameters do not match the parameters of a previous request with the same client token',
  }
  return err
}
