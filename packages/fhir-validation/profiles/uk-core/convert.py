#!/usr/bin/env python3
"""
Converts UK Core's StructureDefinitions and ValueSets (FHIR XML, as NHS England keeps them in its
UK Core repository) to FHIR JSON, the form the validator reads. Run from this folder with the UK
Core repository's checkout (a git directory) and its commit:

    python3 convert.py /path/to/FHIR-R4-UKCORE-STAGING-MAIN/.git 3d2827e3e9918674640d0c14a0f870084397a615

Python's standard library only (no XML parser is among the project's npm dependencies). The JSON
is FHIR's: repeating elements become arrays, integers and booleans their JSON types, as the FHIR
JSON format defines for the elements these two resource types use.
"""
import json, subprocess, sys, xml.etree.ElementTree as ET

NS = '{http://hl7.org/fhir}'
# Elements that repeat (max "*") in StructureDefinition, ValueSet and the data types they use.
REPEATING = {'element', 'type', 'profile', 'targetProfile', 'aggregation', 'constraint', 'condition', 'discriminator',
             'mapping', 'contact', 'telecom', 'code', 'alias', 'example', 'extension', 'include', 'exclude', 'concept',
             'filter', 'contains', 'valueSet', 'designation', 'keyword', 'context', 'contextInvariant', 'useContext',
             'jurisdiction', 'identifier', 'coding', 'parameter', 'given', 'prefix', 'line'}
# Repeat only inside these parents (elsewhere single).
SINGLE_IN = {('type', 'code'), ('binding', 'valueSet'), ('include', 'valueSet'), ('exclude', 'valueSet'), ('concept', 'code'),
             ('contains', 'code'), ('filter', 'value'), ('StructureDefinition', 'type'), ('coding', 'code'), ('code', 'coding'), ('discriminator', 'type'), ('context', 'type')}
INTEGERS = {'min', 'total', 'offset', 'rank', 'minLength', 'maxLength'}
BOOLEANS = {'mustSupport', 'isModifier', 'isSummary', 'abstract', 'experimental', 'immutable', 'inactive', 'sliceIsConstraining',
            'ordered', 'mustSupport', 'lockedDate', 'fixedBoolean', 'patternBoolean', 'abstract'}

def convert(node, parent):
    name = node.tag.replace(NS, '')
    if name == 'div':
        return name, ET.tostring(node, encoding='unicode').replace(' xmlns:ns0="http://www.w3.org/1999/xhtml"', '')
    out = {}
    if node.get('url') is not None:
        out['url'] = node.get('url')
    if node.get('id') is not None:
        out['id'] = node.get('id')
    value = node.get('value')
    children = list(node)
    if value is not None and not children:
        if name in INTEGERS or name.startswith(('fixedInteger', 'patternInteger', 'minValueInteger', 'maxValueInteger')):
            return name, int(value)
        if name in BOOLEANS:
            return name, value == 'true'
        return name, value
    for child in children:
        key, converted = convert(child, name)
        repeats = key in REPEATING and (name, key) not in SINGLE_IN
        if repeats:
            out.setdefault(key, []).append(converted)
        else:
            out[key] = converted
    return name, out

def main(git_dir, commit, names):
    for name in names:
        xml = subprocess.run(['git', '--git-dir', git_dir, 'show', f'{commit}:{name}'], check=True, capture_output=True).stdout
        root = ET.fromstring(xml)
        kind, body = convert(root, None)
        body = {'resourceType': kind, **body}
        body.pop('text', None)  # the narrative is not needed to validate
        target = name.split('/')[-1].replace('.xml', '.json')
        with open(target, 'w') as f:
            json.dump(body, f, indent=1, ensure_ascii=False)
            f.write('\n')

if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], [l.strip() for l in open('files.txt') if l.strip()])
