"""Responses a person must look at before they are quoted or summarised: a private person's health
details ("I was diagnosed with cancer", "my husband had a stroke") or details about a child ("my son
Dylan", "our daughter, 14"). Such a response is stored as moderation state ``held``; it still counts in
totals and themes, but no quote or summary draws on it until a moderator clears or hides it.

Opinions about services ("mental health services are poor", "the hospital was excellent") are not
personal health details: a health word counts only with a person it belongs to (I, my mother, fy mab).
"""

from __future__ import annotations

import re

_PERSON_EN = (r"(?:\bi\b|\bi'm\b|\bi've\b|\bi was\b|\bme\b|\bmy\s+(?:\w+\s+)?(?:son|daughter|child|children|kids|boy|girl|"
              r"baby|grandson|granddaughter|grandchild|husband|wife|partner|mum|mam|mother|dad|father|brother|sister|"
              r"nephew|niece|neighbour|friend|son-in-law|twins|gran|nan|grandad|grandmother|grandfather|family)\b"
              r"|\bour\s+(?:\w+\s+)?(?:son|daughter|child|children|kids|boy|girl|baby|twins|grandson|granddaughter)\b"
              r"|\b(?:he|she)\b)")
_PERSON_CY = (r"(?:\brydw i\b|\bdw i\b|\brwy'?n\b|\broeddwn i\b|\bfi\b|\bfy\s+(?:\w+\s+)?(?:mab|merch|mhlentyn|mhlant|"
              r"ngŵr|ngwr|ngwraig|mhartner|mam|nhad|mrawd|chwaer|ŵyr|wyr|wyres|nain|nhaid|nghymydog|ffrind|efeilliaid)"
              r"|\bein\s+(?:mab|merch|plentyn|plant)\b)")
HEALTH = re.compile(
    r"\b(?:diagnosed|diagnosis|cancer|tumou?r|chemo(?:therapy)?|radiotherapy|autism|autistic|adhd|dementia|alzheimer'?s|"
    r"stroke|heart attack|depression|depressed|anxiety|panic attacks|asthma|ms\b|multiple sclerosis|epilepsy|"
    r"epileptic|diabetes|diabetic|sectioned|self[- ]harm(?:ing)?|suicidal|eating disorder|anorexia|bulimia|"
    r"pregnant|pregnancy|miscarriage|meningitis|cerebral palsy|disabled|disability|wheelchair|terminal|"
    r"palliative|hip replacement|surgery on|operation on|fell|fallen|falls\b|broke (?:his|her|my) |"
    r"mental health (?:problems|condition|crisis)|in foster care|foster care|young carer|housebound|"
    r"canser|awtistiaeth|awtistig|ddementia|dementia|strôc|stroc|iselder|gorbryder|asthma|epilepsi|"
    r"diabetes|clefyd y siwgr|hunan-niweidio|anhwylder bwyta|beichiog|llid yr ymennydd|parlys yr ymennydd|"
    r"cemotherapi|cwympo|syrthio|anabl|anabledd|cadair olwyn|gofal maeth|gofalwr ifanc)",
    re.IGNORECASE)
# A child named or aged: "my son Dylan", "our daughter, 14", "fy merch Elin", "who is 14", "aged 9".
CHILD = re.compile(
    r"(?i:\b(?:my|our)\s+(?:little\s+|eldest\s+|youngest\s+)?(?:son|daughter|child|boy|girl|baby|grandson|"
    r"granddaughter|twins|grandchild))\s*,?\s+(?:[A-ZŴŶ]\w+|(?i:who is|aged)\s+\d+|\d+\b)"
    r"|(?i:\b(?:fy|ein)\s+(?:mab|merch|mhlentyn|mhlant|ŵyr|wyr|wyres|efeilliaid|plentyn|plant))\s*,?\s+(?:[A-ZŴŶ]\w+|\d+\b)"
    r"|(?i:\b(?:son|daughter|child|girl|boy|twins|mab|merch|plentyn)\b[^.]{0,40}\b(?:is|are|aged|yn)\s+\d{1,2}\b)")


def review(text: str) -> list[str]:
    """Why a response should be held for a person to look at ('health', 'child'); empty when it need not."""
    text = text or ""
    reasons = []
    for sentence in re.split(r"(?<=[.!?;])\s+", text):
        if HEALTH.search(sentence) and (re.search(_PERSON_EN, sentence, re.IGNORECASE)
                                        or re.search(_PERSON_CY, sentence, re.IGNORECASE)):
            reasons.append("health")
            break
    if CHILD.search(text):
        reasons.append("child")
    return reasons
