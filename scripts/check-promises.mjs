// Lists promises nobody awaits in the bridge's sources: an expression statement whose value is a
// Promise (write `await`, or `void` when nothing should wait), a call's Promise used as a condition
// (a missing await that makes a check always pass), and a call's Promise given where a value is
// meant (an argument of type unknown, a property of an object literal, a template's part: it would
// be sent or stored as `{}`). Part of `npm run lint`.
import path from 'node:path';
import ts from 'typescript';

const project = path.resolve(process.argv[2] ?? 'bridge-server/tsconfig.json');
const config = ts.getParsedCommandLineOfConfigFile(
  project,
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} },
);
const program = ts.createProgram(config.fileNames, { ...config.options, noEmit: true });
const checker = program.getTypeChecker();
const isPromise = (node) => {
  const type = checker.getTypeAtLocation(node);
  const parts = type.isUnion() ? type.types : [type];
  return parts.some((t) => (t.getSymbol()?.getName() ?? '') === 'Promise');
};
/** Always a promise (not a value that is one only sometimes, such as ajv's validators' answers). */
const onlyPromise = (node) => {
  const t = checker.getTypeAtLocation(node);
  return (t.isUnion() ? t.types : [t]).every((x) => x.getSymbol()?.getName() === 'Promise');
};
/** `p.then(...)`, `p.catch(...)`, `p.finally(...)`: the chain handles what the promise does. */
const handled = (e) =>
  ts.isCallExpression(e) &&
  ts.isPropertyAccessExpression(e.expression) &&
  ['then', 'catch', 'finally'].includes(e.expression.name.text);
const found = [];
const report = (node, what) => {
  const sf = node.getSourceFile();
  const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart());
  found.push(
    `${path.relative(process.cwd(), sf.fileName)}:${line + 1}:${character + 1} ${what}: ${node.getText().slice(0, 80)}`,
  );
};
for (const sf of program.getSourceFiles()) {
  if (sf.isDeclarationFile || !config.fileNames.includes(sf.fileName)) continue;
  const visit = (node) => {
    if (ts.isExpressionStatement(node)) {
      const e = node.expression;
      const assigned =
        ts.isBinaryExpression(e) &&
        e.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
        e.operatorToken.kind <= ts.SyntaxKind.LastAssignment;
      if (!ts.isVoidExpression(e) && !ts.isAwaitExpression(e) && !handled(e) && !assigned && isPromise(e))
        report(e, 'promise not awaited');
    }
    // A call's promise as a condition is always true: the check it was meant to be never runs.
    const calledPromise = (e) => ts.isCallExpression(e) && onlyPromise(e);
    if ((ts.isIfStatement(node) || ts.isWhileStatement(node)) && calledPromise(node.expression))
      report(node.expression, 'promise as a condition');
    if (
      ts.isPrefixUnaryExpression(node) &&
      node.operator === ts.SyntaxKind.ExclamationToken &&
      calledPromise(node.operand)
    )
      report(node.operand, 'promise as a condition');
    if (ts.isConditionalExpression(node) && calledPromise(node.condition))
      report(node.condition, 'promise as a condition');
    // A promise where a value is meant: an argument whose parameter takes no promise, an object
    // literal's property, a part of a template string.
    const promiseCall = (e) => ts.isCallExpression(e) && isPromise(e);
    if (ts.isCallExpression(node) && !/^Promise\.|\.(then|catch|finally)$/.test(node.expression.getText(sf))) {
      const signature = checker.getResolvedSignature(node);
      node.arguments.forEach((arg, k) => {
        if (!signature) return;
        const params = signature.getParameters();
        const param = params[Math.min(k, params.length - 1)];
        if (!param) return;
        const type = checker.getTypeOfSymbolAtLocation(param, node);
        if (promiseCall(arg)) {
          const text = checker.typeToString(type);
          if (!/Promise|PromiseLike|=>|any\b|\bT\b/.test(text)) report(arg, `promise passed as ${text}`);
        }
        // An async callback where the callee uses what it returns (filter, some, sort, map into values).
        if (ts.isArrowFunction(arg) || ts.isFunctionExpression(arg)) {
          const own = checker.getSignaturesOfType(checker.getTypeAtLocation(arg), ts.SignatureKind.Call)[0];
          const expected = checker.getSignaturesOfType(checker.getNonNullableType(type), ts.SignatureKind.Call)[0];
          if (!own || !expected) return;
          const returns = own.getReturnType();
          const promiseReturn = (returns.isUnion() ? returns.types : [returns]).some(
            (t) => t.getSymbol()?.getName() === 'Promise',
          );
          const wanted = checker.typeToString(expected.getReturnType());
          const method = ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : '';
          const collects = method === 'map' || method === 'flatMap';
          if (promiseReturn && !/Promise|any\b|\bU\b|\bT\b/.test(wanted) && !collects)
            report(arg, `async callback where ${wanted} is used`);
        }
      });
    }
    if (ts.isPropertyAssignment(node) && promiseCall(node.initializer) && ts.isObjectLiteralExpression(node.parent)) {
      const contextual = checker.getContextualType(node.initializer);
      if (!contextual || !/Promise/.test(checker.typeToString(contextual)))
        report(node.initializer, 'promise as a property');
    }
    if (ts.isTemplateSpan(node) && promiseCall(node.expression)) report(node.expression, 'promise in a template');
    // Compared, or the operand of && / || (`!== null` on a promise is always true).
    const compares = [
      ts.SyntaxKind.EqualsEqualsEqualsToken,
      ts.SyntaxKind.ExclamationEqualsEqualsToken,
      ts.SyntaxKind.EqualsEqualsToken,
      ts.SyntaxKind.ExclamationEqualsToken,
      ts.SyntaxKind.AmpersandAmpersandToken,
      ts.SyntaxKind.BarBarToken,
      ts.SyntaxKind.QuestionQuestionToken,
    ];
    if (ts.isBinaryExpression(node) && compares.includes(node.operatorToken.kind)) {
      const logical =
        node.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken ||
        node.operatorToken.kind === ts.SyntaxKind.BarBarToken;
      // The right side of && / || may be the value meant (a promise returned on purpose); two
      // promises compared are an identity check; a value that is a promise only sometimes (ajv's
      // validators) is what the code tests.
      const bothPromises = isPromise(node.left) && isPromise(node.right);
      if (!bothPromises && promiseCall(node.left) && onlyPromise(node.left))
        report(node.left, 'promise compared or tested');
      if (!logical && !bothPromises && promiseCall(node.right) && onlyPromise(node.right))
        report(node.right, 'promise compared or tested');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
for (const f of found) console.log(f);
if (found.length) {
  console.error(`${found.length} promise(s) nobody awaits`);
  process.exit(1);
}
