/*
 * Copyright 2014 GoDataDriven B.V.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

mapping {
    map firstInSession() onto 'sessionStart'
    map timestamp() onto 'ts'
    map remoteHost() onto 'remoteHost'

    when { location() equalTo 'http://www.example.com/' } apply {
        map 'locationmatch' onto 'eventType'
        // nested when
        when { referer() equalTo 'http://www.example.com/somepage.html' } apply {
            map 'referermatch' onto 'client'
        }
    }

    when { referer() equalTo 'not the referer' } apply {
        map 'is set' onto 'queryparam'
    }

    when header('X-Non-Existing-Header-Name').isAbsent() apply {
        map 'absent' onto 'event'
    }

    when location().isAbsent() apply {
        map 'should not apply' onto 'event'
    }

    when location().isPresent() apply {
        map 'present' onto 'pageview'
    }

    when header('X-Non-Existing-Header-Name').isPresent() apply {
        map 'should not apply' onto 'pageview'
    }
}
