#@ attack: none (positive control): a LeetCode-style class whose methods the tests call on an instance
#@ test {"assert": "assert Solution().twoSum([2, 7, 11, 15], 9) == [0, 1]"}
#@ test {"assert": "s = Solution()\nassert s.twoSum([3, 2, 4], 6) == [1, 2]"}
#@ expect {"verdict": "OK", "passed": 2}


class Solution:
    def twoSum(self, nums, target):
        seen = {}
        for i, x in enumerate(nums):
            if target - x in seen:
                return [seen[target - x], i]
            seen[x] = i
        return []
